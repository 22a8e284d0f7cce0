// Entry point: <script src="https://service.example.com/widget/widget.js" data-lang="es" async></script>
import { readConfig } from "./config.js";
import { Widget } from "./widget.js";

const script =
  document.currentScript ||
  Array.from(document.querySelectorAll("script[src]"))
    .reverse()
    .find((s) => /\/widget(\.min|\.[0-9a-f]{10})?\.js(?:[?#]|$)/.test(s.src));

function boot() {
  const config = readConfig(script);
  if (document.querySelector(`[data-handoff-webchat="${CSS.escape(config.storageKey)}"]`)) return; // loaded twice
  const widget = new Widget(config);
  widget.mount(document.body);
  const api = {
    open: () => widget.open(),
    close: () => widget.close(),
    identify: (token) => widget.identify(token), // the site's signed identity token for its signed-in visitor
    get sessionId() {
      return widget.sessionId;
    },
  };
  if (!window.HandoffWebchat) window.HandoffWebchat = api;
  if (!window.FrontDoor) window.FrontDoor = api;
}

if (document.body) boot();
else document.addEventListener("DOMContentLoaded", boot, { once: true });

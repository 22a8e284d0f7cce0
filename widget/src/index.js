// Entry point: <script src="https://service.example.com/widget/widget.js" data-lang="es" async></script>
import { readConfig } from "./config.js";
import { Widget } from "./widget.js";

const script =
  document.currentScript ||
  Array.from(document.querySelectorAll("script[src]"))
    .reverse()
    .find((s) => /\/widget(\.min)?\.js(?:[?#]|$)/.test(s.src));

function boot() {
  const config = readConfig(script);
  if (document.querySelector(`[data-handoff-webchat="${CSS.escape(config.storageKey)}"]`)) return; // loaded twice
  const widget = new Widget(config);
  widget.mount(document.body);
  if (!window.HandoffWebchat) {
    window.HandoffWebchat = {
      open: () => widget.open(),
      close: () => widget.close(),
      get sessionId() {
        return widget.sessionId;
      },
    };
  }
}

if (document.body) boot();
else document.addEventListener("DOMContentLoaded", boot, { once: true });

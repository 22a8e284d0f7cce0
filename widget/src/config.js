import { pickLanguage } from "./i18n.js";

const SCRIPT_PATH_RE = /\/widget\/widget(\.min|\.[0-9a-f]{10})?\.js$/; // the stable name or the content-hashed one

// Reads the widget's settings from the attributes of its own <script> tag:
//   data-lang="es|en|pt"   UI and assistant language (default: the page's <html lang>, then the browser's)
//   data-tone="tuteo|usted|voseo"   how the widget's Spanish addresses the visitor (operations.yml assistant.tone)
//   data-title="..."       header title
//   data-server="https://chat.example.com[/prefix]"   the front door service (default: where widget.js came from)
//   data-socket-path="/socket.io"                     Socket.IO path on that server
//   data-open="true"       open the panel on page load
//   data-identity-token="<JWT>"   the signed-in visitor, signed by the site's backend (README: signed identity tokens)
export function readConfig(script) {
  const ds = (script && script.dataset) || {};
  let origin = window.location.origin;
  let prefix = "";
  const src = script && script.src;
  if (ds.server) {
    const u = new URL(ds.server, window.location.href);
    origin = u.origin;
    prefix = u.pathname.replace(/\/+$/, "");
  } else if (src) {
    const u = new URL(src, window.location.href);
    origin = u.origin;
    prefix = SCRIPT_PATH_RE.test(u.pathname) ? u.pathname.replace(SCRIPT_PATH_RE, "") : "";
  }
  const lang = pickLanguage(ds.lang);
  return {
    server: origin,
    socketPath: ds.socketPath || `${prefix}/socket.io`,
    lang,
    tone: ["tuteo", "usted", "voseo"].includes(ds.tone) ? ds.tone : "tuteo",
    title: ds.title || null,
    openOnLoad: ds.open === "true" || ds.open === "",
    identityToken: ds.identityToken || null,
    storageKey: `handoff-webchat:${origin}${prefix}:session`,
  };
}

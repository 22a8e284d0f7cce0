// Lives inside the shadow root, so nothing here reaches the host page. The page's inherited styles (fonts,
// colours, line heights) stop at `.root { all: initial }`; the host element itself gets an inline
// `all: initial !important`, so page rules such as `* { ... !important }` cannot restyle it either.
export const CSS = `
.root {
  all: initial;
  --hw-accent: #1f5fbf;
  --hw-accent-text: #ffffff;
  --hw-bg: #ffffff;
  --hw-text: #1b1f24;
  --hw-muted: #5b6470;
  --hw-bot-bg: #eef1f5;
  --hw-agent-bg: #e6f4ea;
  --hw-focus: #ffbf47;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px;
  line-height: 1.4;
  color: var(--hw-text);
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, textarea { font: inherit; color: inherit; }
:focus-visible { outline: 3px solid var(--hw-focus); outline-offset: 2px; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483646;
  display: inline-flex; align-items: center; gap: 8px;
  min-height: 52px; padding: 0 20px; border: 0; border-radius: 26px;
  background: var(--hw-accent); color: var(--hw-accent-text);
  font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25);
}
.launcher:hover { filter: brightness(1.08); }
.launcher .badge {
  min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #c62828; color: #fff; font-size: 13px; line-height: 22px; text-align: center;
}
.panel {
  position: fixed; right: 20px; bottom: 84px; z-index: 2147483647;
  width: 370px; height: min(600px, calc(100vh - 110px));
  display: flex; flex-direction: column;
  background: var(--hw-bg); border-radius: 12px; overflow: hidden;
  box-shadow: 0 8px 30px rgba(0,0,0,.3);
}
.header {
  display: flex; align-items: center; justify-content: space-between; gap: 8px;
  padding: 12px 12px 12px 16px; background: var(--hw-accent); color: var(--hw-accent-text);
}
.header h2 { margin: 0; font-size: 17px; font-weight: 600; }
.close {
  width: 40px; height: 40px; border: 0; border-radius: 20px; background: transparent;
  color: var(--hw-accent-text); font-size: 24px; line-height: 1; cursor: pointer;
}
.close:hover { background: rgba(255,255,255,.15); }
.status { padding: 6px 16px; font-size: 13px; background: #fff4d6; color: #5a4300; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; display: flex; flex-direction: column; gap: 2px; }
.msg .who { font-size: 12px; color: var(--hw-muted); }
.msg .bubble {
  padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
}
.msg.customer { align-self: flex-end; align-items: flex-end; }
.msg.customer .bubble { background: var(--hw-accent); color: var(--hw-accent-text); border-bottom-right-radius: 4px; }
.msg.customer .bubble a { color: inherit; }
.msg.bot, .msg.agent { align-self: flex-start; }
.msg.bot .bubble { background: var(--hw-bot-bg); border-bottom-left-radius: 4px; }
.msg.agent .bubble { background: var(--hw-agent-bg); border-bottom-left-radius: 4px; }
.msg .bubble a { color: var(--hw-accent); text-decoration: underline; }
.msg img { display: block; max-width: 100%; max-height: 260px; border-radius: 10px; }
.system { align-self: center; font-size: 13px; color: var(--hw-muted); text-align: center; padding: 2px 8px; }
.system.error { color: #a11d1d; }
.quick-replies { display: flex; flex-wrap: wrap; gap: 6px; align-self: flex-start; max-width: 95%; }
.quick-replies button {
  min-height: 36px; padding: 6px 12px; border-radius: 18px; cursor: pointer;
  border: 1.5px solid var(--hw-accent); background: var(--hw-bg); color: var(--hw-accent);
}
.quick-replies button:hover:not(:disabled) { background: var(--hw-accent); color: var(--hw-accent-text); }
.quick-replies button:disabled { cursor: default; opacity: .55; }
.quick-replies button[aria-pressed="true"] { opacity: 1; background: var(--hw-accent); color: var(--hw-accent-text); }
.typing { padding: 0 16px 6px; font-size: 13px; color: var(--hw-muted); font-style: italic; min-height: 0; }
.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #dde2e8; }
.composer textarea {
  flex: 1; resize: none; min-height: 42px; max-height: 120px; padding: 10px 12px;
  border: 1px solid #aeb6c0; border-radius: 10px; background: #fff;
}
.composer button {
  min-width: 72px; min-height: 42px; padding: 0 14px; border: 0; border-radius: 10px;
  background: var(--hw-accent); color: var(--hw-accent-text); font-weight: 600; cursor: pointer;
}
.composer button:disabled { opacity: .6; cursor: default; }
@media (max-width: 480px) {
  .panel { inset: 0; right: 0; bottom: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; }
  .launcher { right: 12px; bottom: 12px; }
  :host([data-open]) .launcher { display: none; }
}
@media (prefers-reduced-motion: no-preference) {
  .panel { animation: hw-in .16s ease-out; }
  @keyframes hw-in { from { opacity: 0; transform: translateY(8px); } to { opacity: 1; transform: none; } }
}
`;

// Not missing a case: desktop notifications (asked only when the agent turns alerts on) and a short sound made
// with WebAudio (no audio file). The choice is kept in this browser; the permission is the browser's.
import { $ } from "./dom.js";
import { onLocaleChange, t } from "./i18n.js";

const KEY = "inbox.alerts";
const state = { audio: null, onOpen: null };

export const notificationsSupported = () => typeof window.Notification === "function";
export const alertsOn = () => localStorage.getItem(KEY) === "on";

function showToggle() {
  const button = $("#alerts-toggle");
  const on = alertsOn();
  button.setAttribute("aria-pressed", String(on));
  const denied = notificationsSupported() && Notification.permission === "denied";
  button.textContent = t(!on ? "alerts.enable" : denied ? "alerts.soundOnly" : "alerts.on");
}

// The agent's click is the user gesture both the permission prompt and the audio context need.
async function toggle() {
  if (alertsOn()) {
    localStorage.setItem(KEY, "off");
  } else {
    localStorage.setItem(KEY, "on");
    audioContext();
    if (notificationsSupported() && Notification.permission === "default") {
      try { await Notification.requestPermission(); } catch (_) { /* an old browser: sound only */ }
    }
  }
  showToggle();
}

export function mountAlerts(onOpen) {
  state.onOpen = onOpen;
  $("#alerts-toggle").addEventListener("click", toggle);
  showToggle();
  onLocaleChange(showToggle);
}

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!state.audio) state.audio = new Context();
  if (state.audio.state === "suspended") state.audio.resume().catch(() => null);
  return state.audio;
}

// Two short tones (about a third of a second), soft enough for a shift of them.
export function chime() {
  const ctx = audioContext();
  if (!ctx) return false;
  const start = ctx.currentTime;
  [880, 1320].forEach((frequency, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    const at = start + i * 0.16;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.16);
  });
  return true;
}

// One alert: a sound, and a notification when allowed; clicking it brings the inbox forward on the case.
// `tag` keeps one notification per case and kind (a burst of replies replaces, never stacks).
export function notify({ title, body, caseId, tag }) {
  if (!alertsOn()) return null;
  chime();
  if (!notificationsSupported() || Notification.permission !== "granted") return null;
  const note = new Notification(title, { body, tag: tag || caseId, lang: document.documentElement.lang || "en" });
  note.onclick = () => {
    window.focus();
    if (caseId && state.onOpen) state.onOpen(caseId);
    note.close();
  };
  return note;
}

// UI text in the languages the assistant speaks. Keys are used by ui.js; add a language by adding a block.
export const STRINGS = {
  es: {
    title: "Atención al cliente",
    launcher: "Chatea con nosotros",
    open: "Abrir el chat",
    close: "Cerrar el chat",
    placeholder: "Escribe tu mensaje…",
    inputLabel: "Mensaje",
    send: "Enviar",
    typingBot: "El asistente está escribiendo…",
    typingAgent: "{name} está escribiendo…",
    typingAgentAnon: "Un agente está escribiendo…",
    connecting: "Conectando…",
    reconnecting: "Conexión perdida. Reconectando…",
    connected: "Conectado",
    agentJoined: "{name} se ha unido a la conversación",
    you: "Tú",
    assistant: "Asistente",
    agent: "Agente",
    quickReplies: "Respuestas sugeridas",
    image: "Imagen enviada en el chat",
    file: "Archivo adjunto",
    unread: "{count} mensajes nuevos",
    errors: {
      rate_limited: "Estás enviando mensajes demasiado rápido. Espera un momento e inténtalo de nuevo.",
      message_too_large: "El mensaje es demasiado largo. Acórtalo e inténtalo de nuevo.",
      invalid_message: "No hemos podido enviar ese mensaje.",
      unknown_session: "Tu sesión ha caducado; empezamos una nueva conversación.",
      invalid_identity: "No pudimos confirmar tu identidad con este sitio; puedes seguir escribiendo sin iniciar sesión.",
      generic: "Algo ha fallado. Inténtalo de nuevo.",
    },
  },
  en: {
    title: "Customer support",
    launcher: "Chat with us",
    open: "Open chat",
    close: "Close chat",
    placeholder: "Type your message…",
    inputLabel: "Message",
    send: "Send",
    typingBot: "The assistant is typing…",
    typingAgent: "{name} is typing…",
    typingAgentAnon: "An agent is typing…",
    connecting: "Connecting…",
    reconnecting: "Connection lost. Reconnecting…",
    connected: "Connected",
    agentJoined: "{name} joined the conversation",
    you: "You",
    assistant: "Assistant",
    agent: "Agent",
    quickReplies: "Suggested replies",
    image: "Image sent in the chat",
    file: "Attachment",
    unread: "{count} new messages",
    errors: {
      rate_limited: "You are sending messages too quickly. Please wait a moment and try again.",
      message_too_large: "That message is too long. Please shorten it and try again.",
      invalid_message: "We could not send that message.",
      unknown_session: "Your session expired; we started a new conversation.",
      invalid_identity: "We could not confirm who you are with this site; you can keep writing without signing in.",
      generic: "Something went wrong. Please try again.",
    },
  },
  pt: {
    title: "Atendimento ao cliente",
    launcher: "Fale com a gente",
    open: "Abrir o chat",
    close: "Fechar o chat",
    placeholder: "Digite sua mensagem…",
    inputLabel: "Mensagem",
    send: "Enviar",
    typingBot: "O assistente está digitando…",
    typingAgent: "{name} está digitando…",
    typingAgentAnon: "Um atendente está digitando…",
    connecting: "Conectando…",
    reconnecting: "Conexão perdida. Reconectando…",
    connected: "Conectado",
    agentJoined: "{name} entrou na conversa",
    you: "Você",
    assistant: "Assistente",
    agent: "Atendente",
    quickReplies: "Respostas sugeridas",
    image: "Imagem enviada no chat",
    file: "Arquivo anexado",
    unread: "{count} mensagens novas",
    errors: {
      rate_limited: "Você está enviando mensagens rápido demais. Espere um pouco e tente de novo.",
      message_too_large: "A mensagem é longa demais. Encurte o texto e tente de novo.",
      invalid_message: "Não conseguimos enviar essa mensagem.",
      unknown_session: "Sua sessão expirou; começamos uma nova conversa.",
      invalid_identity: "Não conseguimos confirmar sua identidade com este site; você pode continuar escrevendo sem fazer login.",
      generic: "Algo deu errado. Tente de novo.",
    },
  },
};

// Spanish in the operation's tone (operations.yml assistant.tone, given as data-tone): what differs from tuteo.
export const TONE_STRINGS = {
  usted: {
    launcher: "Escríbanos",
    placeholder: "Escriba su mensaje…",
    you: "Usted",
    errors: {
      rate_limited: "Está enviando mensajes demasiado rápido. Espere un momento e inténtelo de nuevo.",
      message_too_large: "El mensaje es demasiado largo. Acórtelo e inténtelo de nuevo.",
      unknown_session: "Su sesión ha caducado; empezamos una nueva conversación.",
      invalid_identity: "No pudimos confirmar su identidad con este sitio; puede seguir escribiendo sin iniciar sesión.",
      generic: "Algo ha fallado. Inténtelo de nuevo.",
    },
  },
  voseo: {
    launcher: "Chateá con nosotros",
    placeholder: "Escribí tu mensaje…",
    you: "Vos",
    errors: {
      rate_limited: "Estás mandando mensajes demasiado rápido. Esperá un momento y probá de nuevo.",
      message_too_large: "El mensaje es demasiado largo. Acortalo y probá de nuevo.",
      unknown_session: "Tu sesión expiró; empezamos una nueva conversación.",
      invalid_identity: "No pudimos confirmar tu identidad con este sitio; podés seguir escribiendo sin iniciar sesión.",
      generic: "Algo falló. Probá de nuevo.",
    },
  },
};

// The strings of a language; Spanish in `tone` (tuteo unless usted or voseo).
export function stringsFor(lang, tone) {
  const base = STRINGS[lang] || STRINGS.es;
  const override = lang === "es" ? TONE_STRINGS[tone] : null;
  if (!override) return base;
  return { ...base, ...override, errors: { ...base.errors, ...(override.errors || {}) } };
}

export function pickLanguage(requested) {
  const candidates = [requested, document.documentElement.lang, ...(navigator.languages || [navigator.language])];
  for (const c of candidates) {
    const base = String(c || "").trim().toLowerCase().split(/[-_]/)[0];
    if (base && STRINGS[base]) return base;
  }
  return "es";
}

export function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, k) => (values && values[k] != null ? String(values[k]) : ""));
}

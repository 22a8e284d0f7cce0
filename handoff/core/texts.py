"""What the service itself says to customers, in each language it speaks."""
from __future__ import annotations

import re
import unicodedata

TEXTS: dict[str, dict[str, str]] = {
    "bot_unavailable": {
        "es": "Recibimos tu mensaje. Nuestro asistente no está disponible en este momento, "
              "así que una persona del equipo te responderá aquí mismo. No necesitas repetir nada.",
        "en": "We got your message. Our assistant is not available right now, so a person from our team "
              "will answer you right here. You don't need to repeat anything.",
    },
    # An abandoned website chat continued on WhatsApp inside the 24-hour window (core/recovery.py).
    "chat_recovery": {
        "es": "Hola, seguimos por aquí. Vimos que dejaste nuestro chat del sitio web sin terminar: responde a "
              "este mensaje y continuamos con tu caso por WhatsApp.",
        "en": "Hi, we're still here. We saw you left our website chat before it was finished: reply to this "
              "message and we'll continue your case on WhatsApp.",
    },
    # A WhatsApp "stop"/"baja" (core/consent.py), sent once.
    "whatsapp_opted_out": {
        "es": "Listo, ya no te enviaremos mensajes por WhatsApp por nuestra cuenta. Si nos escribes, te "
              "responderemos aquí como siempre.",
        "en": "Done: we won't send you WhatsApp messages on our own anymore. If you write to us, we'll still "
              "answer you here.",
    },
    "rate_limited": {
        "es": "Estás enviando mensajes muy rápido. Espera unos segundos e inténtalo de nuevo.",
        "en": "You are sending messages too fast. Please wait a few seconds and try again.",
    },
    "message_too_large": {
        "es": "Tu mensaje es demasiado largo (máximo {limit} caracteres).",
        "en": "Your message is too long (at most {limit} characters).",
    },
    "invalid_message": {
        "es": "No pudimos leer ese mensaje.",
        "en": "We could not read that message.",
    },
    "invalid_identity": {  # a site's signed identity token that is bad, expired or not accepted here
        "es": "No pudimos confirmar tu identidad con este sitio; puedes seguir escribiendo sin iniciar sesión.",
        "en": "We could not confirm who you are with this site; you can keep writing without signing in.",
    },
    # Verification codes (core/code_requests.py sends them, core/typed_codes.py checks them): never the digits.
    "verification_code_sent_whatsapp": {
        "es": "Te enviamos un código de 6 dígitos por WhatsApp al número que termina en {last}. "
              "Escríbelo aquí para continuar.",
        "en": "We sent a 6-digit code by WhatsApp to the number ending in {last}. Type it here to continue.",
    },
    "verification_code_sent_whatsapp_keypad": {  # to a caller, during their call
        "es": "Te enviamos un código de 6 dígitos por WhatsApp al número que termina en {last}. "
              "Cuando lo tengas, márcalo en el teclado de tu teléfono o dímelo.",
        "en": "We sent a 6-digit code by WhatsApp to the number ending in {last}. "
              "When you have it, key it in on your phone's keypad or say it.",
    },
    "verification_code_sent_voice": {
        "es": "Te llamaremos al número que termina en {last} para dictarte un código de 6 dígitos. "
              "Escríbelo aquí para continuar.",
        "en": "We'll call the number ending in {last} to read you a 6-digit code. Type it here to continue.",
    },
    "verification_already_verified": {
        "es": "Tu número que termina en {last} ya está verificado. Seguimos con tu caso.",
        "en": "Your number ending in {last} is already verified. Let's carry on with your case.",
    },
    "verification_code_limit": {
        "es": "Ya enviamos varios códigos en la última hora y no podemos enviar otro ahora. "
              "Una persona del equipo te ayudará aquí mismo.",
        "en": "We have sent several codes in the last hour and cannot send another now. "
              "A person from our team will help you right here.",
    },
    "verification_code_bad_phone": {
        "es": "Ese número de teléfono no parece válido, así que no pudimos enviarte un código. "
              "Una persona del equipo te ayudará aquí mismo.",
        "en": "That phone number does not look valid, so we could not send you a code. "
              "A person from our team will help you right here.",
    },
    "verification_code_not_sent": {
        "es": "No pudimos enviarte un código de verificación en este momento. "
              "Una persona del equipo te ayudará aquí mismo.",
        "en": "We could not send you a verification code right now. A person from our team will help you right here.",
    },
    "verification_code_entered": {
        "es": "código de verificación ingresado",
        "en": "verification code entered",
    },
    "verification_code_verified": {
        "es": "Listo, verificamos tu número. Seguimos con tu caso; no necesitas repetir nada.",
        "en": "Done, your number is verified. Let's carry on with your case; you don't need to repeat anything.",
    },
    "verification_code_wrong": {
        "es": "Ese código no es correcto. Revisa el mensaje que te enviamos; te quedan {tries} intentos.",
        "en": "That code is not right. Check the message we sent you; you have {tries} tries left.",
    },
    "verification_code_wrong_last": {
        "es": "Ese código no es correcto. Revisa el mensaje que te enviamos; te queda 1 intento.",
        "en": "That code is not right. Check the message we sent you; you have 1 try left.",
    },
    "verification_code_expired": {
        "es": "Ese código ya no es válido (dura 5 minutos). Pide uno nuevo y te lo enviamos.",
        "en": "That code is no longer valid (it lasts 5 minutes). Ask for a new one and we'll send it.",
    },
    "verification_code_failed": {
        "es": "No pudimos verificar tu número con ese código. Una persona del equipo te ayudará aquí mismo.",
        "en": "We could not verify your number with that code. A person from our team will help you right here.",
    },
    # Handoff and inbox (handoff/inbox/): what the customer is told while people take over.
    "handoff_assigned": {
        "es": "Una persona del equipo ya tiene tu caso y te responderá aquí en unos momentos.",
        "en": "A person from our team already has your case and will answer you here in a few moments.",
    },
    "handoff_held": {
        "es": "La persona que te atendió la última vez ya tiene tu caso y te responderá aquí en cuanto se libere; "
              "no necesitas repetir nada.",
        "en": "The person who helped you last time has your case and will answer you here as soon as they are "
              "free; no need to repeat anything.",
    },
    "handoff_queued": {
        "es": "Una persona del equipo te responderá aquí. Eres el número {position} en la fila; "
              "tiempo estimado de espera: unos {minutes} min.",
        "en": "A person from our team will answer you here. You are number {position} in line; "
              "estimated wait: about {minutes} min.",
    },
    "handoff_queued_unstaffed": {
        "es": "Una persona del equipo te responderá aquí en cuanto esté disponible. Eres el número {position} "
              "en la fila; no necesitas repetir nada.",
        "en": "A person from our team will answer you here as soon as one is available. You are number "
              "{position} in line; you don't need to repeat anything.",
    },
    "handoff_after_hours": {  # {hours}: "Ahora estamos cerrados; abrimos el lunes a las 09:00." (business_hours)
        "es": "{hours} Tu caso queda registrado y una persona te responderá entonces; no necesitas repetir nada.",
        "en": "{hours} Your case is recorded and a person will answer you then; you don't need to repeat anything.",
    },
    "handoff_after_hours_no_opening": {  # closed, and no opening within the next three weeks
        "es": "{hours} Tu caso queda registrado y una persona te responderá en cuanto abramos; "
              "no necesitas repetir nada.",
        "en": "{hours} Your case is recorded and a person will answer you as soon as we open; "
              "you don't need to repeat anything.",
    },
    # Overflow (core/overflow.py): the wait is over the channel's target, or nobody is online; the customer chooses.
    "overflow_offer_wait": {
        "es": "En este momento la espera para hablar con una persona es de unos {minutes} min "
              "(eres el número {position} en la fila). ¿Qué prefieres?",
        "en": "Right now the wait to talk to a person is about {minutes} min (you are number {position} in line). "
              "What would you like to do?",
    },
    "overflow_offer_unstaffed": {
        "es": "En este momento no hay nadie del equipo disponible (eres el número {position} en la fila). "
              "¿Qué prefieres?",
        "en": "Nobody from our team is available right now (you are number {position} in line). "
              "What would you like to do?",
    },
    # Button titles: at most 20 characters (WhatsApp reply buttons).
    "overflow_choice_wait": {"es": "Esperar", "en": "Wait"},
    "overflow_choice_whatsapp": {"es": "Seguir por WhatsApp", "en": "Go on WhatsApp"},
    "overflow_choice_callback": {"es": "Que me llamen", "en": "Call me back"},
    "overflow_choice_assistant": {"es": "Seguir con asistente", "en": "Stay with assistant"},
    "overflow_waiting": {
        "es": "Perfecto, conservas tu lugar: eres el número {position} en la fila; "
              "tiempo estimado de espera: unos {minutes} min. Una persona te responderá aquí.",
        "en": "Great, you keep your place: you are number {position} in line; estimated wait: about {minutes} min. "
              "A person will answer you here.",
    },
    "overflow_waiting_unstaffed": {
        "es": "Perfecto, conservas tu lugar: eres el número {position} en la fila. Una persona te responderá aquí "
              "en cuanto esté disponible; no necesitas repetir nada.",
        "en": "Great, you keep your place: you are number {position} in line. A person will answer you here as "
              "soon as one is available; you don't need to repeat anything.",
    },
    "overflow_whatsapp_moved": {
        "es": "Listo, seguimos por WhatsApp: te escribimos al número que termina en {last}. "
              "Una persona del equipo te responderá allí.",
        "en": "Done, we'll continue on WhatsApp: we're writing to the number ending in {last}. "
              "A person from our team will answer you there.",
    },
    "overflow_whatsapp_hello": {  # the first message on WhatsApp, inside its 24-hour window
        "es": "Hola, seguimos por aquí con tu caso. Una persona del equipo te responderá en este chat; "
              "no necesitas repetir nada.",
        "en": "Hi, we're continuing your case here. A person from our team will answer you in this chat; "
              "you don't need to repeat anything.",
    },
    "overflow_whatsapp_failed": {
        "es": "No pudimos escribirte por WhatsApp en este momento. Conservas tu lugar en la fila y una persona "
              "te responderá aquí.",
        "en": "We could not write to you on WhatsApp right now. You keep your place in line and a person will "
              "answer you here.",
    },
    "overflow_callback_requested": {
        "es": "Listo, te llamaremos al número que termina en {last} en cuanto una persona del equipo esté libre.",
        "en": "Done, we'll call you at the number ending in {last} as soon as a person from our team is free.",
    },
    # A call the customer asked the assistant for (core/callback_requests.py); {when}: "hoy entre las 15:00 y las
    # 18:00" / "tomorrow between 09:00 and 12:00".
    "callback_booked": {
        "es": "Listo ✅ Te llamaremos al número que termina en {last} {when}. Si prefieres, puedes seguir "
              "escribiéndome aquí.",
        "en": "Done ✅ We'll call you at the number ending in {last} {when}. You can keep writing to me here "
              "meanwhile.",
    },
    "callback_not_booked": {
        "es": "No pude agendar la llamada 😕 Te paso con una persona del equipo para que lo resolvamos.",
        "en": "I couldn't book the call 😕 I'm passing you to a person from our team to sort it out.",
    },
    "overflow_callback_failed": {
        "es": "No pudimos registrar la llamada en este momento. Conservas tu lugar en la fila y una persona "
              "te responderá aquí.",
        "en": "We could not book the call right now. You keep your place in line and a person will answer you "
              "here.",
    },
    "overflow_assistant": {
        "es": "De acuerdo, sigo contigo mientras tanto: escríbeme lo que necesites. Conservas tu lugar en la fila "
              "y, en cuanto una persona esté libre, tomará tu caso aquí mismo.",
        "en": "Sure, I'll stay with you meanwhile: write whatever you need. You keep your place in line and as "
              "soon as a person is free, they will take your case right here.",
    },
    "overflow_still_queued": {  # the assistant asks for a person again while keeping the customer company
        "es": "Ya estás en la fila (número {position}); una persona del equipo tomará tu caso aquí en cuanto "
              "esté libre.",
        "en": "You are already in line (number {position}); a person from our team will take your case here as "
              "soon as one is free.",
    },
    # The phone's menu: each offered choice has its own digit (core/overflow.DIGITS), read in order.
    "voice_overflow_wait_option": {"es": "Para esperar en la línea, marca 1.", "en": "To wait on the line, press 1."},
    "voice_overflow_whatsapp_option": {"es": "Para seguir por WhatsApp, marca 2.",
                                       "en": "To continue on WhatsApp, press 2."},
    "voice_overflow_callback_option": {"es": "Para que te llamemos, marca 3.",
                                       "en": "For us to call you back, press 3."},
    "voice_overflow_assistant_option": {"es": "Para seguir con el asistente, marca 4.",
                                        "en": "To go on with the assistant, press 4."},
    "voice_overflow_whatsapp": {
        "es": "Listo, te escribiremos por WhatsApp para continuar con tu caso. Gracias por llamar, hasta pronto.",
        "en": "Done, we'll write to you on WhatsApp to continue with your case. Thanks for calling, goodbye.",
    },
    "voice_overflow_callback": {
        "es": "Listo, te llamaremos en cuanto una persona del equipo esté libre. Gracias por llamar, hasta pronto.",
        "en": "Done, we'll call you back as soon as a person from our team is free. Thanks for calling, goodbye.",
    },
    "voice_overflow_assistant": {
        "es": "De acuerdo, sigo contigo mientras tanto. ¿En qué te puedo ayudar?",
        "en": "Sure, I'll stay with you meanwhile. How can I help you?",
    },
    "agent_joined": {
        "es": "{name} se ha unido a la conversación.",
        "en": "{name} has joined the conversation.",
    },
    "returned_to_bot": {
        "es": "Te dejo de nuevo con nuestro asistente virtual. Si necesitas a una persona, solo pídelo.",
        "en": "I'm handing you back to our virtual assistant. If you need a person again, just ask.",
    },
    "csat_question": {
        "es": "Tu caso quedó resuelto. ¿Cómo calificarías la atención que recibiste?",
        "en": "Your case is resolved. How would you rate the help you got?",
    },
    "csat_good": {"es": "Buena", "en": "Good"},
    "csat_neutral": {"es": "Regular", "en": "Okay"},
    "csat_bad": {"es": "Mala", "en": "Bad"},
    "csat_thanks": {
        "es": "Gracias por tu respuesta.",
        "en": "Thank you for your answer.",
    },
    # The voice channel (channels/voice/assistant.py): spoken to the caller in their language.
    "voice_greeting": {
        "es": "Hola, gracias por llamar. Soy el asistente virtual. Dime en pocas palabras en qué te puedo ayudar.",
        "en": "Hi, thanks for calling. I'm the virtual assistant. Tell me in a few words how I can help you.",
    },
    "voice_reprompt": {
        "es": "No te escuché. Dime en qué te puedo ayudar, o di: quiero hablar con una persona.",
        "en": "I didn't hear you. Tell me how I can help, or say: I want to talk to a person.",
    },
    "voice_anything_else": {
        "es": "¿Hay algo más en lo que te pueda ayudar?",
        "en": "Is there anything else I can help you with?",
    },
    "voice_connecting": {
        "es": "Te comunico con una persona del equipo. Por favor espera en la línea.",
        "en": "I'm connecting you with a person from our team. Please stay on the line.",
    },
    "voice_missed": {
        "es": "Lo sentimos, nadie pudo atenderte ahora. Te escribiremos por WhatsApp para continuar. Hasta pronto.",
        "en": "Sorry, nobody could take your call right now. We'll write to you on WhatsApp to continue. Goodbye.",
    },
    "voice_code_prompt": {  # a code is awaited on the call: silence, or keys that are not six digits
        "es": "Marca en el teclado los 6 dígitos del código que te enviamos por WhatsApp, o dímelos.",
        "en": "Key in the 6 digits of the code we sent you on WhatsApp, or say them.",
    },
    "voice_sorry": {
        "es": "Lo sentimos, no pudimos continuar con esta llamada. Por favor llama de nuevo.",
        "en": "Sorry, we could not continue this call. Please call again.",
    },
    # Callbacks (core/callback_messages.py): inside WhatsApp's 24-hour window, after a callback nobody answered.
    "callback_missed": {
        "es": "Hola, te llamamos como pediste y no pudimos comunicarnos contigo. "
              "Responde aquí y seguimos con tu caso por WhatsApp, o dinos a qué hora te llamamos de nuevo.",
        "en": "Hi, we called you back as you asked and couldn't reach you. "
              "Reply here and we'll continue your case on WhatsApp, or tell us when to call you again.",
    },
    "callback_bridge": {  # said to the agent who answered, before the customer is dialed
        "es": "Llamada de regreso solicitada por un cliente. Te comunicamos ahora.",
        "en": "A callback a customer asked for. Connecting you now.",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """The text in `language`, falling back to Spanish, our first market's language."""
    variants = TEXTS[key]
    return variants.get(language, variants["es"]).format(**values)


def folded(text: str) -> str:
    """A customer's words as answers are compared: lower case, no accents, single spaces, no punctuation around the
    words ("¡Sí, ESPERO!" reads as "si espero")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", plain.casefold()).split())

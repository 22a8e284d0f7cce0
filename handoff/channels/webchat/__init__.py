"""The website chat door: Socket.IO speaking Rasa's socketio protocol."""

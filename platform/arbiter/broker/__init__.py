"""Messaging: the application fan-out to the recorder and the challengers (CONTRACT.md, "Messaging").

`codec` turns an application and the champion's result into a message body (AES-GCM when
ARBITER_MESSAGE_KEY is set); `topology` names and declares exchanges and queues; `spool` is the
durable local outbox; `publisher` moves messages off the request path; `amqp` and `memory`
are the two transports behind one interface (`transport`).
"""

import GridSchema
import ZeroMQ

/// An accepted publish on its way to the journal, with what is needed to answer it.
struct IncomingEvent: Sendable {
    let envelope: ScannedEnvelope
    let bytes: [UInt8]
    let reply: ReplyAddress
    let token: [UInt8]
    /// Events of one PUB that carries several share a group (never 0), so that their ACKs go back
    /// in one message; 0 for a PUB of one event.
    var group: UInt64 = 0
}

/// Where an answer goes: the ROUTER routing id, and whether the peer is a REQ (empty delimiter frame).
struct ReplyAddress: Sendable, Hashable {
    let routingID: [UInt8]
    let delimited: Bool

    func frames(_ body: [[UInt8]]) -> [[UInt8]] { (delimited ? [routingID, []] : [routingID]) + body }

    /// Sends the envelope frames (routing id, and the empty delimiter for REQ), leaving the message open for the body.
    func sendEnvelope(on socket: ZMQSocket) throws(ZMQError) {
        try socket.send(routingID, more: true)
        if delimited { try socket.send([], more: true) }
    }
}

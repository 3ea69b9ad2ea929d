import CZeroMQ

/// The socket types GridBus uses.
public enum ZMQSocketType: Sendable, CaseIterable {
    case pair, publish, subscribe, request, reply, dealer, router, pull, push, xpublish, xsubscribe

    /// Whether the type can receive messages (PUSH and PUB cannot; polling them for input fails).
    public var canReceive: Bool { self != .push && self != .publish }

    var rawValue: Int32 {
        switch self {
        case .pair: ZMQ_PAIR
        case .publish: ZMQ_PUB
        case .subscribe: ZMQ_SUB
        case .request: ZMQ_REQ
        case .reply: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pull: ZMQ_PULL
        case .push: ZMQ_PUSH
        case .xpublish: ZMQ_XPUB
        case .xsubscribe: ZMQ_XSUB
        }
    }
}

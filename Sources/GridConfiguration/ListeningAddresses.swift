/// Where a program listens once it does, with ports configured as 0 or `*` resolved: what a
/// library's server reports to the program that runs it (which writes its ready file).
public struct ListeningAddresses: Sendable, Equatable {
    /// `http://HOST:PORT`
    public var http: String
    /// The bus's endpoints, for gridbusd.
    public var ingress: String?
    public var egress: String?
    public var replay: String?

    public init(http: String, ingress: String? = nil, egress: String? = nil, replay: String? = nil) {
        self.http = http
        self.ingress = ingress
        self.egress = egress
        self.replay = replay
    }
}

/// Called once a program's servers listen.
public typealias ReadyHandler = @Sendable (ListeningAddresses) -> Void

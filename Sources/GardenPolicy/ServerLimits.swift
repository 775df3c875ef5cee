/// Bounds that keep one client from holding the garden's resources.
///
/// The defaults follow nginx's spirit at classroom scale: generous for browsers, tight
/// enough that a slow or hostile client cannot pin connections.
public struct ServerLimits: Sendable, Equatable {
    /// Longest request target accepted; longer gets 414 URI Too Long.
    public var maxURIBytes: Int = 8 * 1024
    /// Largest header section (names + values) accepted; larger gets 431.
    public var maxHeaderBytes: Int = 16 * 1024
    /// Time a client has to send a whole request once it started one; then 408 and close.
    public var requestTimeout: Duration = .seconds(10)
    /// Time a keep-alive connection may sit idle between requests before it is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Open client connections at once; further connections get 503 and are closed.
    public var maxConnections: Int = 1024
    /// Open connections from one client address at once; further ones get 503 and are
    /// closed. Room for a teacher's three browsers on loopback (a browser keeps up to 32
    /// connections to a proxy), far below `maxConnections`, so that one student's client
    /// cannot hold every connection.
    public var maxConnectionsPerClient: Int = 128
    /// Time in-flight requests get to finish after SIGINT/SIGTERM.
    public var shutdownGrace: Duration = .seconds(10)

    public init() {}
}

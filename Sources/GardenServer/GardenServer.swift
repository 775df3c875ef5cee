import GardenAudit
import GardenPolicy
import GardenSites
import Logging
import NIOCore
import NIOExtras
import Synchronization
import NIOPosix

/// The data plane: listens on the configured addresses and serves the garden's sites.
///
/// Built on SwiftNIO directly rather than a web framework: proxy requests keep their
/// absolute URL, CONNECT and the censor styles (drop, reset, stall) need the raw channel,
/// and a hand-written request and response path is what comes near nginx's speed.
public final class GardenServer: Sendable {
    private let garden: GardenContext
    private let listeners: [GardenConfig.Listener]
    private let group: any EventLoopGroup
    private let connections: ConnectionLimiter
    private let quiesce: ServerQuiescingHelper
    private let channels: ListeningChannels

    /// Prepares a server; nothing listens until `start()`.
    ///
    /// - Parameters:
    ///   - config: listeners, site registry and limits.
    ///   - library: the loaded site folders.
    ///   - audit: where audit events go; by default a trail with no log file (the desk
    ///     and the metrics still see every event). `serve` makes one from `log:`.
    ///   - group: the event loops to serve on (default: one per core, shared).
    ///   - siteCertificates: the authority the simulated sites' TLS tunnels are answered
    ///     with (`serve` keeps one in the Config folder); by default one in memory.
    public init(config: GardenConfig, library: SiteLibrary, logger: Logger, audit: AuditTrail? = nil,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, siteCertificates: SiteCertificates? = nil) {
        // The templates were checked when the config was loaded; should they not parse
        // (a config built in code), the built-in pages serve and the log says why.
        let pages: GardenPages
        do {
            pages = try GardenPages(portalHost: config.sites.portalHost, templates: config.templates)
        } catch {
            logger.error("page templates have errors; using the built-in pages", metadata: ["errors": "\(error)"])
            pages = .builtIn(portalHost: config.sites.portalHost)
        }
        self.garden = GardenContext(
            registry: config.sites, library: library, limits: config.limits, policy: config.policy, pages: pages, logger: logger,
            audit: audit ?? AuditTrail(logger: logger), tunnelPorts: config.tunnelPorts, upstream: config.upstream,
            group: group, lab: config.lab, siteCertificates: siteCertificates ?? SiteCertificates(directory: nil, logger: logger)
        )
        garden.students.setLifetime(seconds: config.roster.sessionSeconds)
        self.listeners = config.listeners
        self.group = group
        self.connections = ConnectionLimiter(limit: config.limits.maxConnections, perClient: config.limits.maxConnectionsPerClient)
        self.quiesce = ServerQuiescingHelper(group: group)
        self.channels = ListeningChannels()
    }

    /// Binds every listener. Returns the bound addresses (useful with port 0).
    ///
    /// - Throws: the bind error of the first listener that fails; listeners already
    ///   bound are closed again, and the server lets go of its way out, its password
    ///   checks and its audit trail: it cannot be started again.
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        // The authority kept in the Config folder is there before the first tunnel needs
        // it: a teacher hands its certificate to curl or a browser before the lesson.
        if garden.siteCertificates.certificateFile != nil {
            do {
                _ = try garden.siteCertificates.authorityPEM(registry: garden.policies.current().registry)
            } catch {
                garden.logger.warning("cannot make the simulated sites' certificate authority", metadata: ["error": "\(error)"])
            }
        }
        var bound: [SocketAddress] = []
        for listener in listeners {
            let address = listener.address
            do {
                let clients = listener.admitted(defaultClass: garden.policies.current().policy.defaultClass)
                let channel = try await bootstrap(persona: listener.persona, listener: "\(address)", clients: clients)
                    .bind(host: address.host, port: address.port).get()
                channels.append(channel)
                if let local = channel.localAddress {
                    bound.append(local)
                    if let port = local.port { garden.itself.addListener(port: port) }
                }
            } catch {
                for channel in channels.all { try? await channel.close() }
                await releaseResources()
                throw GardenServerError.cannotListen(address: address, underlying: error)
            }
        }
        return bound
    }

    /// Puts a new policy in force for every request that starts from now on; requests
    /// already being answered finish under the policy they started with.
    public func replacePolicy(with policy: Policy) {
        garden.policies.replace(with: policy)
    }

    /// Puts a reloaded configuration's policy, page templates and sites in force together:
    /// folders newly named in `sites.yaml` are loaded, those no longer named let go.
    ///
    /// - Throws: `ConfigErrors` when the templates do not parse or a new site folder
    ///   cannot be loaded; nothing changes then.
    public func apply(_ config: GardenConfig) throws(ConfigErrors) {
        let pages = try GardenPages(portalHost: config.sites.portalHost, templates: config.templates)
        if config.sites != garden.policies.current().registry {
            do {
                try garden.library.setFolders(config.sites.sites.map(\.folder), logger: garden.logger)
            } catch {
                throw ConfigErrors([ConfigDiagnostic(file: error.folder, line: 0, column: 0, message: error.message)])
            }
        }
        garden.policies.replace(with: config.policy, pages: pages, registry: config.sites)
        garden.students.setLifetime(seconds: config.roster.sessionSeconds)
    }

    /// Tells the garden that its teacher's desk listens at `port`: never reached through
    /// the garden's way out, whatever the SSRF guard's allow-list says.
    public func deskListens(at port: Int) {
        garden.itself.addDesk(port: port)
    }

    /// The audit events: log, live feed, statistics and metrics.
    public var audit: AuditTrail { garden.audit }

    /// The students signed in with the portal's form, and the teacher's live class moves.
    public var students: StudentSessions { garden.students }

    /// How many passwords have been put to scrypt (a remembered password is not checked again).
    public var passwordChecksPerformed: Int { garden.credentials.performed }

    /// Open client connections now (for tests and the dashboard).
    public var openConnections: Int { connections.count }

    /// Client addresses with a connection open now.
    public var connectedClients: Int { connections.clients }

    /// Connection handlers still in memory; zero once every connection has closed.
    public var liveConnectionHandlers: Int { garden.liveHandlers.load(ordering: .relaxed) }

    /// Stops accepting, closes idle connections, lets requests in flight finish, and
    /// returns when every connection is closed or `limits.shutdownGrace` has passed.
    public func shutdown() async {
        let promise = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: promise)
        let grace = TimeAmount(garden.limits.shutdownGrace)
        let timeout = group.next().scheduleTask(in: grace) {
            promise.succeed(())
        }
        try? await promise.futureResult.get()
        timeout.cancel()
        await releaseResources()
    }

    /// Closes the way out's kept-alive connections, stops the password checks' threads and
    /// writes the audit trail's last lines (a server dropped without this leaks its
    /// connection pools, and a debug build traps on them).
    private func releaseResources() async {
        await garden.upstream?.shutdown()
        await garden.credentials.shutdown()
        await garden.audit.shutdown()
    }

    /// - Parameter persona: the class of everyone connecting through this listener, if it has one.
    /// - Parameter listener: the listener's address as the audit log names it.
    /// - Parameter clients: who may connect; others get 403 and the connection is closed.
    private func bootstrap(persona: String?, listener: String, clients: ListenerClients = .anyone) -> ServerBootstrap {
        let garden = self.garden
        let connections = self.connections
        let quiesce = self.quiesce
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: GardenHTTPHandler.writeBufferWaterMark)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if clients != .anyone {
                        let remote = channel.remoteAddress?.ipAddress.flatMap(IPAddressRange.parseAddress) ?? []
                        guard clients.admits(remote, isThisMachine: GardenItself.isLocal) else {
                            let message = "This address of the garden (\(listener)\(persona.map { ", where everyone is \($0)" } ?? "")) answers "
                                + (clients == .teacher ? "the teacher's machine only" : "some addresses only") + " (clients: in garden.yaml).\n"
                            try channel.pipeline.syncOperations.addHandler(OverloadHandler(message: message, status: "403 Forbidden"))
                            return
                        }
                    }
                    let ticket: ConnectionLimiter.Ticket
                    switch connections.admit(client: channel.remoteAddress?.ipAddress ?? "-", channel: channel) {
                    case .admitted(let admitted):
                        ticket = admitted
                    case .tooManyFromClient:
                        let message = "Too many connections from your address (at most \(connections.perClient)); close some and try again.\n"
                        try channel.pipeline.syncOperations.addHandler(OverloadHandler(message: message))
                        return
                    case .full:
                        try channel.pipeline.syncOperations.addHandler(OverloadHandler())
                        return
                    }
                    channel.closeFuture.whenComplete { _ in connections.release(ticket) }
                    let handler = GardenHTTPHandler(
                        garden: garden, sites: garden.sites(on: channel.eventLoop), persona: persona, listener: listener, ticket: ticket
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
    }
}

/// Why the garden could not start serving.
public enum GardenServerError: Error, CustomStringConvertible {
    case cannotListen(address: ListenAddress, underlying: any Error)

    public var description: String {
        switch self {
        case let .cannotListen(address, underlying):
            "cannot listen on \(address): \(underlying) (is another server using that port? try --listen 127.0.0.1:8090)"
        }
    }
}

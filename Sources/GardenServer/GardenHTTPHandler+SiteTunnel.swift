import GardenAudit
import GardenPolicy
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// CONNECT tunnels to the simulated sites, answered by the garden itself: the censor's
/// look at the TLS handshake's server name (SNI), then TLS with a certificate of the
/// garden's authority, then the site's pages (`TunnelledSite`).
extension GardenHTTPHandler {
    /// Answers 200 to an allowed CONNECT to a simulated site and becomes the site's end of
    /// the tunnel: on port 80 plain HTTP at once; on any other port the handshake's
    /// server name is put to the censor first (a `CONNECT allowed:443` that names a
    /// blocked site in its handshake is reset), then TLS.
    func openSiteTunnel(to target: RequestTarget, facts: RequestFacts, decision: Decision, policy: Policy) {
        var head = context.channel.allocator.buffer(capacity: 64)
        head.writeString("HTTP/1.1 200 Connection Established\r\n\r\n")
        recordEvent(bytes: head.readableBytes, status: 200)
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        // The handler leaves the connection once the request being read is done with
        // (what the client sent after it waits in `pending`): on the loop's next turn.
        awaitingTunnel = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.becomeSiteTunnel(to: target, facts: facts, decision: decision, policy: policy)
        }
    }

    /// Puts the site's end of the tunnel (or the server-name check before it) after this
    /// handler, hands it what the client sent after the CONNECT, and leaves.
    func becomeSiteTunnel(to target: RequestTarget, facts: RequestFacts, decision: Decision, policy: Policy) {
        awaitingTunnel = false
        guard context != nil, context.channel.isActive else { return }
        let client = context.channel
        let site = sites.registry.site(named: target.host.name)?.host ?? target.host.name
        do {
            if target.host.port == 80 {
                try enterSite(site, decision: decision, facts: facts, tls: nil, client: client, after: self)
            } else {
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let sni = serverNameCheck { result in
                    handler.value.siteServerNamed(result, site: site, target: target, facts: facts, decision: decision, policy: policy, client: client)
                }
                try context.pipeline.syncOperations.addHandler(sni, position: .after(self))
            }
        } catch {
            context.close(promise: nil)
            return
        }
        leaveToTunnel()
    }

    /// The handshake's server name has come: the censor judges it; if it lets it
    /// through, TLS begins with the certificate of the site it names (the tunnel's site
    /// when it names no simulated site, whose certificate the client will then refuse).
    func siteServerNamed(
        _ result: SNIResult, site: String, target: RequestTarget, facts: RequestFacts, decision: Decision, policy: Policy, client: any Channel
    ) -> EventLoopFuture<Void> {
        var (site, decision) = (site, decision)
        if let judged = judgeServerName(result, target: target, facts: facts, policy: policy) {
            guard judged.decision.action == .allow else {
                resetCaughtTunnel(target: target, facts: facts, serverName: judged, client: client)
                return client.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
            }
            if let entry = sites.registry.site(named: judged.host) { (site, decision) = (entry.host, judged.decision) }
        }
        do {
            let tls = NIOSSLServerHandler(context: try garden.siteCertificates.context(for: site, registry: sites.registry))
            try enterSite(site, decision: decision, facts: facts, tls: tls, client: client, after: nil)
            return client.eventLoop.makeSucceededVoidFuture()
        } catch {
            garden.logger.warning("cannot answer a tunnel to \(site) with TLS", metadata: ["error": "\(error)"])
            client.close(promise: nil)
            return client.eventLoop.makeFailedFuture(error)
        }
    }

    /// Puts the site's end of the tunnel on the connection: the TLS handler, if any, and
    /// a handler that answers for `site` only, with the censor's decision at the door.
    func enterSite(
        _ site: String, decision: Decision, facts: RequestFacts, tls: NIOSSLServerHandler?, client: any Channel, after: GardenHTTPHandler?
    ) throws {
        let inside = GardenHTTPHandler(
            garden: garden, sites: sites, persona: planner.persona, listener: listener, ticket: ticket,
            tunnelledSite: TunnelledSite(host: site, decision: decision, visitorClass: facts.visitorClass, account: facts.account)
        )
        let pipeline = client.pipeline.syncOperations
        if let after {
            try pipeline.addHandler(inside, position: .after(after))
        } else {
            if let tls { try pipeline.addHandler(tls) }
            try pipeline.addHandler(inside)
        }
    }
}

#if canImport(Glibc)
import GardenAudit
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GardenPolicy
import GardenRewrite
import GardenSites
import Logging
import NIOCore
import NIOExtras
import NIOTLS
import Synchronization

/// A TLS handshake's server name, as the censor judged it.
struct JudgedServerName {
    var host: String
    var zone: Zone?
    var decision: Decision
}

/// CONNECT tunnels through the way out: dialled off the loop, the SNI checked against the
/// censor, then the two sockets glued together.
extension GardenHTTPHandler {
    /// Connects an allowed CONNECT to the real host; answers 200 and joins the two
    /// connections once it answers — after the TLS ClientHello's server name (SNI) has
    /// been put to the censor too, so that `CONNECT allowed:443` carrying SNI `blocked`
    /// is caught, as the Great Firewall does.
    func openTunnel(to target: RequestTarget, facts: RequestFacts, policy: Policy, settings: UpstreamSettings) {
        awaitingTunnel = true
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        // The upstream channel is made on this loop, so its end of the glue is used there only.
        let upstreamEnd = NIOLoopBound(upstreamGlue, eventLoop: eventLoop)
        let clientEnd = NIOLoopBound(clientGlue, eventLoop: eventLoop)
        TunnelDialer.connect(
            host: target.host.name, port: target.host.port ?? 443, settings: settings, itself: garden.itself, on: eventLoop
        ) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(upstreamEnd.value) }
        }.whenComplete { result in
            handler.value.tunnelDialled(result, clientGlue: clientEnd.value, target: target, facts: facts, policy: policy)
        }
    }

    func tunnelDialled(
        _ result: Result<any Channel, any Error>, clientGlue: GlueHandler, target: RequestTarget, facts: RequestFacts, policy: Policy
    ) {
        awaitingTunnel = false
        guard context != nil, context.channel.isActive else {
            if case .success(let upstream) = result { upstream.close(promise: nil) }
            return
        }
        let upstream: any Channel
        switch result {
        case .failure(let failure):
            if case TunnelDialer.Failure.forbidden = failure {
                sendError(.forbidden, reason: "\(failure)", isHEAD: false, close: true)
            } else {
                sendError(.badGateway, reason: "\(failure)", isHEAD: false, close: true)
            }
            context.flush()
            return
        case .success(let channel):
            upstream = channel
        }
        // 200, then the client's bytes go through the SNI check, then the glue.
        var head = context.channel.allocator.buffer(capacity: 64)
        head.writeString("HTTP/1.1 200 Connection Established\r\n\r\n")
        recordEvent(bytes: head.readableBytes, status: 200)
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let client = context.channel
        let sni = serverNameCheck(alsoClosing: upstream) { result in
            handler.value.checkServerName(result, target: target, facts: facts, policy: policy, client: client, upstream: upstream)
        }
        // A tunnel idle both ways for the idle timeout is closed, as a kept-alive
        // connection would be: it must not hold its connection slot for ever.
        let idle = IdleStateHandler(allTimeout: TimeAmount(garden.limits.idleTimeout))
        do {
            try context.pipeline.syncOperations.addHandler(idle, position: .after(self))
            try context.pipeline.syncOperations.addHandler(sni, position: .after(idle))
            try context.pipeline.syncOperations.addHandler(clientGlue, position: .after(sni))
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
            return
        }
        leaveToTunnel()
    }

    /// The check of a TLS handshake's server name (SNI), put to `judge`. The name must
    /// show within the request timeout: a client that sends a few bytes and waits would
    /// otherwise hold the check (and the tunnel) until the idle timeout; then the client's
    /// connection is closed, and `alsoClosing` (the real host's) with it.
    func serverNameCheck(
        alsoClosing other: (any Channel)? = nil, judge: @escaping (SNIResult) -> EventLoopFuture<Void>
    ) -> ByteToMessageHandler<SNIHandler> {
        let client = context.channel
        let named = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: TimeAmount(garden.limits.requestTimeout)) {
            guard !named.value, client.isActive else { return }
            other?.close(promise: nil)
            client.close(promise: nil)
        }
        return ByteToMessageHandler(SNIHandler { result in
            named.value = true
            return judge(result)
        })
    }

    /// Hands what the client sent with or after the CONNECT (the ClientHello, often) to
    /// the handlers put after this one, and leaves the connection to them.
    func leaveToTunnel() {
        if let rest = pending, rest.readableBytes > 0 {
            pending = nil
            context.fireChannelRead(NIOAny(rest))
            context.fireChannelReadComplete()
        }
        clockTick?.cancel()
        clockTick = nil
        if readingPaused {
            readingPaused = false
            context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The censor's second look: the server name the browser is really asking for.
    func checkServerName(
        _ result: SNIResult, target: RequestTarget, facts: RequestFacts, policy: Policy, client: any Channel, upstream: any Channel
    ) -> EventLoopFuture<Void> {
        let eventLoop = upstream.eventLoop
        guard let judged = judgeServerName(result, target: target, facts: facts, policy: policy), judged.decision.action != .allow else {
            return eventLoop.makeSucceededVoidFuture()
        }
        // The browser's side first: closing the real host's side first would close the
        // browser's through the glue, normally (FIN), before the reset is set.
        resetCaughtTunnel(target: target, facts: facts, serverName: judged, client: client)
        upstream.close(promise: nil)
        return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
    }

    /// The server name of a TLS handshake, judged by the censor as a request for that
    /// host would be; nil when the handshake names no host, or the tunnel's own.
    func judgeServerName(_ result: SNIResult, target: RequestTarget, facts: RequestFacts, policy: Policy) -> JudgedServerName? {
        guard case .hostname(let name) = result, name.lowercased() != target.host.name else { return nil }
        var named = facts
        named.host = name.lowercased()
        named.zone = sites.registry.site(named: named.host)?.zone
        return JudgedServerName(host: named.host, zone: named.zone, decision: policy.decide(named, tracing: false))
    }

    /// A tunnel caught by its server name: logged, then torn down with a reset, as the
    /// Great Firewall does.
    func resetCaughtTunnel(target: RequestTarget, facts: RequestFacts, serverName: JudgedServerName, client: any Channel) {
        let record = AuditRecord(AuditEvent(
            time: AuditTrail.nowMilliseconds(), listener: listener, client: clientText, visitorClass: facts.visitorClass,
            account: facts.account, method: "CONNECT", url: "\(target.host.name):\(target.host.port ?? 443) (SNI \(serverName.host))",
            host: serverName.host, zone: serverName.zone?.rawValue, rule: serverName.decision.ruleID, action: "reset", status: 0, bytes: 0
        ))
        garden.audit.record(record)
        Self.reset(client)
    }

    /// Closes `channel` with a TCP RST instead of a FIN (SO_LINGER with a zero timeout):
    /// the `reset` censor style, and a tunnel caught by its server name.
    static func reset(_ channel: any Channel) {
        // (On the channel's loop the option is set at once, before the close.)
        if let socket = channel as? any SocketOptionProvider {
            socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }
}

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

/// The audit event of each request: begun when it is taken up, completed with the plan's
/// facts and handed to the trail when its answer is queued.
extension GardenHTTPHandler {
    /// Begins the audit event of a request (or of a refusal before one could be read).
    func startEvent(method: String, url: String, host: String, originHost: String? = nil) {
        answerStarted = NIODeadline.now().uptimeNanoseconds
        event = AuditRecord(
            AuditEvent(
                time: AuditTrail.nowMilliseconds(), listener: listener, client: clientText, visitorClass: visitorClass,
                method: method, url: url, host: host, rule: nil, action: "refused", status: 0, bytes: 0
            ),
            originHost: originHost
        )
    }

    /// The names of the effects carried out, for the audit event. The common single
    /// effects answer without a new array.
    static func appliedEffectNames(_ effects: [Effect]) -> [String] {
        if effects.count == 1 {
            switch effects[0] {
            case .monitor: return monitorOnly
            case .rewrite: return rewriteOnly
            case .throttle: return throttleOnly
            }
        }
        return effects.map(\.name)
    }
    static let monitorOnly = ["monitor"]
    static let rewriteOnly = ["rewrite"]
    static let throttleOnly = ["throttle"]

    /// Hands the event of the answer being queued to the audit trail.
    func recordEvent(bytes: Int, status: Int? = nil) {
        guard let finished = event else { return }
        event = nil
        // Inside a tunnel the censor sees nothing: its log has the tunnel, not the pages.
        guard planner.tunnelledSite == nil else { return }
        finished.event.status = status ?? answerStatus  // 0 when the connection was cut instead
        finished.event.bytes = bytes
        if !answerRewritten, finished.event.effects.contains("rewrite") {
            finished.event.effects.removeAll { $0 == "rewrite" }
        }
        finished.event.durationMicroseconds = Int((NIODeadline.now().uptimeNanoseconds &- answerStarted) / 1000)
        answerStatus = 0
        garden.audit.record(finished)
    }

    /// The bytes of a socket address, for `clients` conditions.
    static func addressBytes(_ address: SocketAddress) -> [UInt8]? {
        // Read from the socket address itself, not printed and parsed again: every fetch
        // through the way out puts its address to the SSRF guard.
        address.withSockAddr { pointer, _ in
            switch Int32(pointer.pointee.sa_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
            default:
                nil
            }
        }
    }

    /// `Date: ...\r\n`, formatted at most once a second per connection.
    func dateLine() -> String {
        let now = time(nil)
        if Int(now) != cachedDate.second {
            cachedDate = (Int(now), "Date: \(HTTPDate.format(Int(now)))\r\n")
        }
        return cachedDate.line
    }
}

import Metrics
import GardenPolicy
import Prometheus
import Synchronization

/// The garden's Prometheus metrics (`/metrics` on the teacher's desk), through
/// swift-metrics with swift-prometheus as its backend.
///
/// Each garden has a registry of its own rather than the process-wide metrics system
/// (which can be bootstrapped only once), so tests can run several gardens side by side.
/// Counters are updated from the audit trail's writer thread, never on the data plane.
public final class GardenMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let counters = Mutex<[String: Metrics.Counter]>([:])
    private let decisionTimer: Metrics.Timer
    private let reloads: Metrics.Counter
    private let reloadFailures: Metrics.Counter
    private let dropped: Metrics.Counter
    private let connections: Metrics.Gauge
    private let viewers: Metrics.Gauge

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // A decision takes well under a microsecond; the default buckets start at 5 ms.
        factory.durationHistogramBuckets["garden_decision_seconds"] = [
            .nanoseconds(250), .nanoseconds(500), .microseconds(1), .microseconds(2), .microseconds(5), .microseconds(10),
            .microseconds(50), .microseconds(100), .milliseconds(1),
        ]
        self.factory = factory
        decisionTimer = Timer(label: "garden_decision_seconds", dimensions: [], factory: factory)
        reloads = Counter(label: "garden_reloads_total", dimensions: [], factory: factory)
        reloadFailures = Counter(label: "garden_reload_failures_total", dimensions: [], factory: factory)
        dropped = Counter(label: "garden_audit_dropped_total", dimensions: [], factory: factory)
        connections = Metrics.Gauge(label: "garden_open_connections", dimensions: [], factory: factory)
        viewers = Metrics.Gauge(label: "garden_feed_viewers", dimensions: [], factory: factory)
    }

    /// What `garden_requests_total` is counted by.
    private struct RequestKey: Hashable {
        var visitorClass: String
        var action: String
        var status: Int
    }

    /// Counts a batch of audit events: requests by class, action and status; bytes by
    /// class; decision times. The batch is summed first, so a busy second costs a few
    /// counter updates, not one per request.
    func add(_ batch: [AuditRecord]) {
        var requests: [RequestKey: Int] = [:]
        var bytes: [String: Int] = [:]
        for record in batch {
            requests[RequestKey(visitorClass: record.event.visitorClass, action: record.event.action, status: record.event.status), default: 0] += 1
            bytes[record.event.visitorClass, default: 0] += record.event.bytes
            if record.event.decisionNanoseconds > 0 { decisionTimer.recordNanoseconds(record.event.decisionNanoseconds) }
        }
        counters.withLock { counters in
            for (key, count) in requests {
                let name = "requests\u{0}\(key.visitorClass)\u{0}\(key.action)\u{0}\(key.status)"
                let counter = counters[name] ?? {
                    let made = Metrics.Counter(
                        label: "garden_requests_total",
                        dimensions: [("class", key.visitorClass), ("action", key.action), ("status", String(key.status))],
                        factory: factory
                    )
                    counters[name] = made
                    return made
                }()
                counter.increment(by: count)
            }
            for (visitorClass, count) in bytes {
                let name = "bytes\u{0}\(visitorClass)"
                let counter = counters[name] ?? {
                    let made = Metrics.Counter(label: "garden_response_bytes_total", dimensions: [("class", visitorClass)], factory: factory)
                    counters[name] = made
                    return made
                }()
                counter.increment(by: count)
            }
        }
    }

    public func reloaded(succeeded: Bool) {
        if succeeded { reloads.increment() } else { reloadFailures.increment() }
    }

    func droppedEvents(_ count: Int) {
        dropped.increment(by: count)
    }

    /// The metrics in Prometheus's text format, with the gauges read now.
    public func exposition(openConnections: Int, feedViewers: Int) -> String {
        connections.record(openConnections)
        viewers.record(feedViewers)
        return registry.emitToString()
    }
}

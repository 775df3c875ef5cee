import GardenPolicy

/// An audit event on its way from a connection to the writer: one reference, so that
/// queueing, batching and the feed's history pass a pointer instead of copying the
/// event's dozen strings (each copy a retain and a release apiece).
///
/// The connection fills it in while answering and never touches it after handing it to
/// the trail; from then on only the writer thread does.
public final class AuditRecord: @unchecked Sendable {
    public var event: AuditEvent
    /// For an origin-form request (`GET /path` with `Host:`): the host, joined to the
    /// path into the event's URL by the writer, off the event loop.
    public var originHost: String?

    public init(_ event: AuditEvent, originHost: String? = nil) {
        self.event = event
        self.originHost = originHost
    }

    /// Puts the URL together, once, on the writer thread.
    public func complete() {
        if let host = originHost {
            event.url = "http://\(host)\(event.url)"
            originHost = nil
        }
    }
}

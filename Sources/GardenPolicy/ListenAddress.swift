/// An address the garden listens on, such as `127.0.0.1:8080` or `[::1]:8080`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The IP address or host name to bind.
    public var host: String
    /// The TCP port; 0 asks the system for a free one (tests use this).
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; a bare port means loopback, never all interfaces.
    public init?(_ text: String) {
        if let port = Int(text), (0...65535).contains(port) {
            self.init(host: "127.0.0.1", port: port)
            return
        }
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]"),
                  text[text.index(after: close)...].first == ":",
                  let port = Int(text[text.index(close, offsetBy: 2)...]), (0...65535).contains(port)
            else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            guard HostName.isIPv6(host) else { return nil }
            self.init(host: host, port: port)
            return
        }
        guard let colon = text.lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, !host.contains(":") else { return nil }
        self.init(host: host, port: port)
    }

    /// Whether only this machine can connect (the secure default).
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

import NIOCore

/// A request head with the fields the garden acts on; everything else is checked for
/// syntax and dropped.
package struct RequestHead: Equatable, Sendable {
    /// The request method. GET, HEAD and CONNECT are told apart without a string.
    enum Method: Equatable, Sendable, CustomStringConvertible {
        case get, head, connect
        case other(String)

        init(_ bytes: UnsafeRawBufferPointer) {
            if bytes.elementsEqual("GET".utf8) {
                self = .get
            } else if bytes.elementsEqual("HEAD".utf8) {
                self = .head
            } else if bytes.elementsEqual("CONNECT".utf8) {
                self = .connect
            } else {
                self = .other(String(decoding: bytes, as: UTF8.self))
            }
        }

        var description: String {
            switch self {
            case .get: "GET"
            case .head: "HEAD"
            case .connect: "CONNECT"
            case .other(let name): name
            }
        }
    }

    var method: Method
    /// The request target exactly as sent.
    var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x).
    var minorVersion: Int
    var host: String?
    var hostCount = 0
    var ifNoneMatch: [String] = []
    var ifModifiedSince: String?
    var range: String?
    var ifRange: String?
    /// `Authorization` (credentials for the garden's own addresses).
    var authorization: String?
    /// `Proxy-Authorization` (credentials for the garden as a proxy).
    var proxyAuthorization: String?
    /// `User-Agent` and `Referer`, for the audit log's Combined Log Format lines.
    var userAgent: String?
    var referer: String?
    /// `Cookie` (the student's sign-in), and `Origin` and `Content-Type` (the sign-in
    /// form's checks).
    var cookie: String?
    var origin: String?
    var contentType: String?
    /// The request announces a body (`Content-Length` other than 0, or `Transfer-Encoding`).
    var hasBody = false
    /// `Content-Length`, when given (Int.max when too large to hold).
    var contentLength: Int?
    /// `Transfer-Encoding` was sent: a body of unannounced length.
    var hasTransferEncoding = false
    /// `Expect: 100-continue`: the client waits for a go-ahead before its body.
    var expectsContinue = false
    /// The head's bytes as received, kept for proxy requests only (absolute-form), whose
    /// other fields are forwarded when they are fetched from the real network.
    var raw: ByteBuffer?
    var connectionClose = false
    var connectionKeepAlive = false
    /// Names and values plus 4 per field (": " and CRLF), as the limit counts them.
    var headerBytes = 0

    init(method: Method, target: String, minorVersion: Int) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    var keepsAlive: Bool {
        if connectionClose { return false }
        return minorVersion >= 1 || connectionKeepAlive
    }

    /// Takes in one field line; a contradictory `Content-Length` is refused.
    mutating func record(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, contentLength: inout Substring?
    ) -> RequestHeadParser.Refusal? {
        func text() -> String { String(decoding: value, as: UTF8.self) }
        switch name.count {
        case 4 where name.equalsIgnoringASCIICase("host"):
            host = text()
            hostCount += 1
        case 5 where name.equalsIgnoringASCIICase("range"):
            range = text()
        case 8 where name.equalsIgnoringASCIICase("if-range"):
            ifRange = text()
        case 7 where name.equalsIgnoringASCIICase("referer"):
            referer = text()
        case 10 where name.equalsIgnoringASCIICase("user-agent"):
            userAgent = text()
        case 10 where name.equalsIgnoringASCIICase("connection"):
            for token in value.split(separator: UInt8(ascii: ",")) {
                var start = token.startIndex
                var end = token.endIndex
                while start < end, value[start] == .space || value[start] == .tab { start += 1 }
                while end > start, value[end - 1] == .space || value[end - 1] == .tab { end -= 1 }
                let trimmed = UnsafeRawBufferPointer(rebasing: value[start..<end])
                if trimmed.equalsIgnoringASCIICase("close") { connectionClose = true }
                if trimmed.equalsIgnoringASCIICase("keep-alive") { connectionKeepAlive = true }
            }
        case 13 where name.equalsIgnoringASCIICase("if-none-match"):
            ifNoneMatch.append(text())
        case 13 where name.equalsIgnoringASCIICase("authorization"):
            authorization = text()
        case 19 where name.equalsIgnoringASCIICase("proxy-authorization"):
            proxyAuthorization = text()
        case 14 where name.equalsIgnoringASCIICase("content-length"):
            let length = Substring(text())
            guard !length.isEmpty, length.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                return .badRequest("Content-Length is not a number")
            }
            if let earlier = contentLength, earlier != length {
                return .badRequest("two different Content-Length values")
            }
            contentLength = length
            self.contentLength = Int(length) ?? Int.max
            if length.utf8.contains(where: { $0 != UInt8(ascii: "0") }) { hasBody = true }
        case 17 where name.equalsIgnoringASCIICase("if-modified-since"):
            ifModifiedSince = text()
        case 17 where name.equalsIgnoringASCIICase("transfer-encoding"):
            hasBody = true
            hasTransferEncoding = true
        case 6 where name.equalsIgnoringASCIICase("cookie"):
            // Several Cookie fields are one list (RFC 6265 §5.4 asks for one; HTTP/2 splits it).
            cookie = cookie.map { $0 + "; " + text() } ?? text()
        case 6 where name.equalsIgnoringASCIICase("origin"):
            origin = text()
        case 12 where name.equalsIgnoringASCIICase("content-type"):
            contentType = text()
        case 6 where name.equalsIgnoringASCIICase("expect"):
            expectsContinue = value.equalsIgnoringASCIICase("100-continue")
        default:
            break
        }
        return nil
    }
}

extension UnsafeRawBufferPointer {
    /// ASCII case-insensitive comparison with a lower-case literal.
    func equalsIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        let other = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: count)
        for index in 0..<count {
            let byte = self[index]
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            if lowered != other[index] { return false }
        }
        return true
    }
}

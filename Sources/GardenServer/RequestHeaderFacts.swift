import GardenSites
import NIOHTTP1

/// The request header fields the garden acts on, gathered in one pass over the headers
/// (instead of one case-insensitive scan per field).
struct RequestHeaderFacts {
    var host: String?
    var hostCount = 0
    var ifNoneMatch: [String] = []
    var ifModifiedSince: String?
    var range: String?
    var ifRange: String?
    /// The request says it carries a body (`Content-Length` other than 0, or `Transfer-Encoding`).
    var hasBody = false
    var connectionClose = false
    var connectionKeepAlive = false
    /// Names and values plus ": " and CRLF, as on the wire.
    var headerBytes = 0

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            headerBytes += name.utf8.count + value.utf8.count + 4
            switch name.utf8.count {
            case 4 where name.equalsIgnoringASCIICase("host"):
                host = value
                hostCount += 1
            case 5 where name.equalsIgnoringASCIICase("range"):
                range = value
            case 8 where name.equalsIgnoringASCIICase("if-range"):
                ifRange = value
            case 10 where name.equalsIgnoringASCIICase("connection"):
                for token in value.split(separator: ",") {
                    let trimmed = token.trimmingASCIISpaces()
                    if trimmed.equalsIgnoringASCIICase("close") { connectionClose = true }
                    if trimmed.equalsIgnoringASCIICase("keep-alive") { connectionKeepAlive = true }
                }
            case 13 where name.equalsIgnoringASCIICase("if-none-match"):
                ifNoneMatch.append(value)
            case 14 where name.equalsIgnoringASCIICase("content-length"):
                if value != "0" { hasBody = true }
            case 17 where name.equalsIgnoringASCIICase("if-modified-since"):
                ifModifiedSince = value
            case 17 where name.equalsIgnoringASCIICase("transfer-encoding"):
                hasBody = true
            default:
                break
            }
        }
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    func keepsAlive(version: HTTPVersion) -> Bool {
        if connectionClose { return false }
        return version.minor >= 1 || connectionKeepAlive
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, byte by byte.
    func equalsIgnoringASCIICase(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        for (a, b) in zip(utf8, other.utf8) where a != b {
            let lowerA = a >= 65 && a <= 90 ? a + 32 : a
            let lowerB = b >= 65 && b <= 90 ? b + 32 : b
            if lowerA != lowerB { return false }
        }
        return true
    }
}

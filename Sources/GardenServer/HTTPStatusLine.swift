/// The statuses the data plane answers with, and their reason phrases.
struct HTTPStatusLine: Sendable, Equatable {
    let code: Int
    let phrase: String

    static let ok = HTTPStatusLine(code: 200, phrase: "OK")
    static let partialContent = HTTPStatusLine(code: 206, phrase: "Partial Content")
    static let movedPermanently = HTTPStatusLine(code: 301, phrase: "Moved Permanently")
    static let found = HTTPStatusLine(code: 302, phrase: "Found")
    static let seeOther = HTTPStatusLine(code: 303, phrase: "See Other")
    static let notModified = HTTPStatusLine(code: 304, phrase: "Not Modified")
    static let badRequest = HTTPStatusLine(code: 400, phrase: "Bad Request")
    static let unauthorized = HTTPStatusLine(code: 401, phrase: "Unauthorized")
    static let forbidden = HTTPStatusLine(code: 403, phrase: "Forbidden")
    static let notFound = HTTPStatusLine(code: 404, phrase: "Not Found")
    static let methodNotAllowed = HTTPStatusLine(code: 405, phrase: "Method Not Allowed")
    static let proxyAuthenticationRequired = HTTPStatusLine(code: 407, phrase: "Proxy Authentication Required")
    static let requestTimeout = HTTPStatusLine(code: 408, phrase: "Request Timeout")
    static let lengthRequired = HTTPStatusLine(code: 411, phrase: "Length Required")
    static let contentTooLarge = HTTPStatusLine(code: 413, phrase: "Content Too Large")
    static let unsupportedMediaType = HTTPStatusLine(code: 415, phrase: "Unsupported Media Type")
    static let misdirectedRequest = HTTPStatusLine(code: 421, phrase: "Misdirected Request")
    static let tooManyRequests = HTTPStatusLine(code: 429, phrase: "Too Many Requests")
    static let uriTooLong = HTTPStatusLine(code: 414, phrase: "URI Too Long")
    static let rangeNotSatisfiable = HTTPStatusLine(code: 416, phrase: "Range Not Satisfiable")
    static let unavailableForLegalReasons = HTTPStatusLine(code: 451, phrase: "Unavailable For Legal Reasons")
    static let headersTooLarge = HTTPStatusLine(code: 431, phrase: "Request Header Fields Too Large")
    static let versionNotSupported = HTTPStatusLine(code: 505, phrase: "HTTP Version Not Supported")
    static let notImplemented = HTTPStatusLine(code: 501, phrase: "Not Implemented")
    static let badGateway = HTTPStatusLine(code: 502, phrase: "Bad Gateway")
    static let gatewayTimeout = HTTPStatusLine(code: 504, phrase: "Gateway Timeout")
    static let serviceUnavailable = HTTPStatusLine(code: 503, phrase: "Service Unavailable")

    /// `HTTP/1.1 404 Not Found\r\n`
    var line: String { "HTTP/1.1 \(code) \(phrase)\r\n" }
}

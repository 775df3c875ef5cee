import NIOCore

/// One file of a site, held in memory with everything a response needs precomputed.
///
/// Serving is then a dictionary lookup and two writes: no `stat`, `open` or `read` per
/// request, and no header formatting beyond the `Date` line. A class, so handing a file
/// to a request costs one reference count rather than one per field.
public final class StaticFile: Sendable {
    /// The file's bytes. Writes share this storage; nothing is copied per request.
    public let body: ByteBuffer
    /// `Content-Type` value.
    public let contentType: String
    /// Whether it is an HTML page (`text/html`): what the censor reads and the rewriter
    /// rewrites. Worked out once, not per request.
    public let isHTML: Bool
    /// Strong validator from the content: `"<size>-<fnv1a64>"` in hex, quoted.
    public let etag: String
    /// Modification time, whole seconds since the epoch.
    public let lastModified: Int
    /// `Last-Modified` value.
    public let lastModifiedText: String
    /// Header lines shared by 200, 206 and 304 answers (type, validators, security), CRLF-terminated.
    /// `no-cache` makes browsers revalidate (cheaply, by ETag) so a teacher's edit shows at once.
    public let validatorLines: String
    /// The complete 200 head without `Date`, connection handling and the blank line.
    public let okHead: ByteBuffer

    /// The file's length in bytes.
    public var size: Int { body.readableBytes }

    /// Prepares a file for serving: its media type from `fileName`, its ETag from `bytes`.
    public convenience init(bytes: [UInt8], fileName: String, lastModified: Int) {
        self.init(bytes: bytes, contentType: MediaType.forFileName(fileName), lastModified: lastModified)
    }

    /// Prepares content made by the garden (a rewritten page): `etagPrefix` keeps its
    /// ETag apart from the original's, `contentSecurityPolicy` replaces the sites' CSP.
    public init(
        bytes: [UInt8], contentType: String, lastModified: Int, etagPrefix: String = "",
        contentSecurityPolicy: String = SecurityHeaders.contentSecurityPolicy
    ) {
        var body = ByteBuffer()
        body.writeBytes(bytes)
        self.body = body
        self.contentType = contentType
        self.isHTML = contentType.utf8.starts(with: "text/html".utf8)
        self.etag = "\"" + etagPrefix + String(bytes.count, radix: 16) + "-" + String(Self.fnv1a64(bytes), radix: 16) + "\""
        self.lastModified = lastModified
        self.lastModifiedText = HTTPDate.format(lastModified)
        self.validatorLines =
            "Content-Type: \(contentType)\r\n"
            + "ETag: \(etag)\r\n"
            + "Last-Modified: \(lastModifiedText)\r\n"
            + "Accept-Ranges: bytes\r\n"
            + "Cache-Control: no-cache\r\n"
            + SecurityHeaders.baseLines
            + "Content-Security-Policy: \(contentSecurityPolicy)\r\n"
        var head = ByteBuffer()
        head.writeString("HTTP/1.1 200 OK\r\nServer: walled-garden\r\n")
        head.writeString(validatorLines)
        head.writeString("Content-Length: \(bytes.count)\r\n")
        self.okHead = head
    }

    private init(copying other: StaticFile) {
        body = ByteBuffer(bytes: other.body.readableBytesView)
        contentType = String(other.contentType.utf8)
        isHTML = other.isHTML
        etag = String(other.etag.utf8)
        lastModified = other.lastModified
        lastModifiedText = String(other.lastModifiedText.utf8)
        validatorLines = String(other.validatorLines.utf8)
        okHead = ByteBuffer(bytes: other.okHead.readableBytesView)
    }

    /// A copy with storage of its own (see `SiteContent.privateCopy()`).
    public func privateCopy() -> StaticFile {
        StaticFile(copying: self)
    }

    /// FNV-1a, 64 bits: fast, and ample to tell versions of one file apart.
    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}

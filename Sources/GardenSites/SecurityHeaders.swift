/// Headers every garden response carries.
///
/// `nosniff` keeps browsers to the declared type; `no-referrer` stops one site learning
/// where a student came from; the CSP keeps each site sandboxed to itself: no script,
/// style, image or frame from anywhere else, so the simulation cannot leak onto the
/// real internet and no outside site can frame it.
public enum SecurityHeaders {
    /// The `Content-Security-Policy` of every site file.
    public static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"

    /// The header lines, each ending in CRLF, ready to be copied into a response head.
    public static let lines =
        "X-Content-Type-Options: nosniff\r\n"
        + "Referrer-Policy: no-referrer\r\n"
        + "Content-Security-Policy: \(contentSecurityPolicy)\r\n"
}

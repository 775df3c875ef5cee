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

    /// The lines every response carries, whatever its CSP, each ending in CRLF.
    public static let baseLines = "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"

    /// The header lines of site files, ready to be copied into a response head.
    public static let lines = baseLines + "Content-Security-Policy: \(contentSecurityPolicy)\r\n"
}

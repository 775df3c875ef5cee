/// A named visitor who signs in with a password (HTTP Basic on the garden's own
/// addresses, `Proxy-Authorization` through the proxy) and is then of a given class,
/// whatever listener or address they come from.
public struct Account: Sendable, Equatable {
    public var name: String
    public var visitorClass: String
    public var passwordHash: PasswordHash

    public init(name: String, visitorClass: String, passwordHash: PasswordHash) {
        self.name = name
        self.visitorClass = visitorClass
        self.passwordHash = passwordHash
    }
}

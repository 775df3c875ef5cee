/// The teacher's desk: the admin plane's address and the hash of its password.
public struct TeacherSettings: Sendable, Equatable {
    /// Where the desk listens (loopback by default).
    public var address: ListenAddress
    public var passwordHash: PasswordHash?

    public init(address: ListenAddress, passwordHash: PasswordHash?) {
        self.address = address
        self.passwordHash = passwordHash
    }
}

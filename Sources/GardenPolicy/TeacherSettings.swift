/// The teacher's desk: the admin plane's address and the hash of its password.
public struct TeacherSettings: Sendable, Equatable {
    /// Where the desk listens (loopback by default).
    public var address: ListenAddress
    public var passwordHash: PasswordHash?

    /// The desk as it is when garden.yaml says nothing of it: on loopback port 9090, its
    /// password kept in `Config/desk-password` (made at the first start).
    public static let standard = TeacherSettings(address: ListenAddress("127.0.0.1:9090")!, passwordHash: nil)

    public init(address: ListenAddress, passwordHash: PasswordHash?) {
        self.address = address
        self.passwordHash = passwordHash
    }
}

import Crypto
import CryptoExtras
import Foundation

/// A stored password: scrypt (RFC 7914, memory-hard) with its cost, salt and digest, in
/// the modular-crypt form `$scrypt$ln=16,r=8,p=1$SALT$DIGEST` (base64 without padding),
/// so each account carries its own parameters and old hashes keep working when the
/// default cost rises. `walled-garden hash-password` prints one; config never holds a
/// plaintext password.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    /// log2 of scrypt's N (CPU/memory cost).
    public let logRounds: Int
    /// scrypt's r (block size).
    public let blockSize: Int
    /// scrypt's p (parallelism).
    public let parallelism: Int
    public let salt: [UInt8]
    public let digest: [UInt8]

    /// The cost `hash-password` uses: N = 2^16, r = 8, p = 1 — 64 MiB and about a tenth
    /// of a second per check (OWASP's minimum for scrypt is N = 2^17 with r = 8; 2^16
    /// keeps a classroom of logins quick on a laptop; pass `--cost 17` for more).
    public static let defaultLogRounds = 16
    /// The costs accepted when reading a hash: below 2^10 is no protection, above 2^22
    /// (4 GiB at r = 8) would stall the garden.
    public static let acceptedLogRounds = 10...22

    public init(logRounds: Int, blockSize: Int, parallelism: Int, salt: [UInt8], digest: [UInt8]) {
        self.logRounds = logRounds
        self.blockSize = blockSize
        self.parallelism = parallelism
        self.salt = salt
        self.digest = digest
    }

    /// Reads the modular-crypt form; nil with the reason when it is not one.
    public static func parse(_ text: String) -> Result<PasswordHash, Problem> {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else {
            return .failure(Problem("is not a password hash; make one with `walled-garden hash-password` (it starts with $scrypt$)"))
        }
        var settings: [Substring: Int] = [:]
        for setting in parts[2].split(separator: ",") {
            let pair = setting.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int(pair[1]) else { return .failure(Problem("has a malformed setting '\(setting)'")) }
            settings[pair[0]] = value
        }
        guard let logRounds = settings["ln"], let blockSize = settings["r"], let parallelism = settings["p"], settings.count == 3 else {
            return .failure(Problem("must give exactly ln=, r= and p="))
        }
        guard acceptedLogRounds.contains(logRounds) else {
            return .failure(Problem("has cost ln=\(logRounds); it must be between \(acceptedLogRounds.lowerBound) and \(acceptedLogRounds.upperBound)"))
        }
        guard (1...32).contains(blockSize), (1...16).contains(parallelism) else {
            return .failure(Problem("needs r between 1 and 32 and p between 1 and 16"))
        }
        guard let salt = decodeBase64(parts[3]), salt.count >= 8,
              let digest = decodeBase64(parts[4]), (16...64).contains(digest.count)
        else {
            return .failure(Problem("has a salt or digest that is not base64 of the right length"))
        }
        return .success(PasswordHash(logRounds: logRounds, blockSize: blockSize, parallelism: parallelism, salt: salt, digest: digest))
    }

    /// Why a text is not a password hash.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Hashes `password` with a fresh random salt.
    public static func make(password: String, logRounds: Int = defaultLogRounds) throws -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let digest = try derive(Array(password.utf8), salt: salt, logRounds: logRounds, blockSize: 8, parallelism: 1, length: 32)
        return PasswordHash(logRounds: logRounds, blockSize: 8, parallelism: 1, salt: salt, digest: digest)
    }

    /// Whether `password` is the one this hash was made from. Costs a full scrypt run
    /// whatever the answer, and compares digests in constant time.
    public func verify(_ password: some Collection<UInt8>) -> Bool {
        guard let candidate = try? Self.derive(
            Array(password), salt: salt, logRounds: logRounds, blockSize: blockSize, parallelism: parallelism, length: digest.count
        ) else { return false }
        return Self.constantTimeEqual(candidate, digest)
    }

    /// Equal bytes, compared without stopping at the first difference.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private static func derive(
        _ password: [UInt8], salt: [UInt8], logRounds: Int, blockSize: Int, parallelism: Int, length: Int
    ) throws -> [UInt8] {
        // BoringSSL is handed the password's base address: give it one byte to point at
        // when the password is empty, and mark the case in the salt so it is not the
        // same as the password "\0".
        let input = password.isEmpty ? [0] : password
        let saltInput = password.isEmpty ? salt + [0xFF] : salt
        let key = try KDF.Scrypt.deriveKey(
            from: input, salt: saltInput, outputByteCount: length,
            rounds: 1 << logRounds, blockSize: blockSize, parallelism: parallelism
        )
        return key.withUnsafeBytes { Array($0) }
    }

    public var description: String {
        "$scrypt$ln=\(logRounds),r=\(blockSize),p=\(parallelism)$\(Self.encodeBase64(salt))$\(Self.encodeBase64(digest))"
    }

    private static func encodeBase64(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    private static func decodeBase64(_ text: Substring) -> [UInt8]? {
        var padded = String(text)
        while padded.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map(Array.init)
    }
}

import Crypto
import Foundation
import GardenPolicy
import Logging
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// The garden's own certificate authority, and a certificate per simulated site signed
/// by it: what lets the simulated sites answer `https://` through a `CONNECT` tunnel,
/// so that a lesson can show the censor reading the server name (SNI) of a real TLS
/// handshake.
///
/// The authority can sign the simulated sites' names and nothing else: its certificate
/// carries a critical name constraint (RFC 5280, 4.2.1.10) listing them, so that a
/// device told to trust it (for a browser demonstration) is not exposed for any real
/// site. A site named later than the authority was made gets a new authority, and the
/// log says so. The authority lasts a year; the sites' certificates, made in memory when
/// first asked for, a week, and are made again after a day.
///
/// Kept in `Config/garden-ca.pem` (the certificate, to hand to `curl --cacert`) and
/// `Config/garden-ca.key` (its key, 0600, never served), made when first missing; with
/// no folder (tests, a read-only folder) the authority lives in memory for one run.
public final class SiteCertificates: Sendable {
    /// Where the authority's certificate and key are kept; nil: in memory only.
    public let certificateFile: String?
    let keyFile: String?
    private let logger: Logger
    /// The key every site certificate of this run certifies (one key, many names).
    private let siteKey = P256.Signing.PrivateKey()
    private let state = Mutex(State())

    private struct State {
        var authority: Authority?
        var contexts: [String: (context: NIOSSLContext, made: Date)] = [:]
    }

    /// The authority: its key, its certificate, and the names it may sign.
    struct Authority {
        var key: P256.Signing.PrivateKey
        var certificate: Certificate
        var permittedNames: [String]

        /// Whether the authority's name constraint lets it sign `name`.
        func permits(_ name: String) -> Bool {
            permittedNames.contains { name == $0 || name.hasSuffix("." + $0) }
        }
    }

    /// The authority kept in `directory` (made there when missing), or one in memory.
    public init(directory: String?, logger: Logger) {
        self.certificateFile = directory.map { ($0 as NSString).appendingPathComponent("garden-ca.pem") }
        self.keyFile = directory.map { ($0 as NSString).appendingPathComponent("garden-ca.key") }
        self.logger = logger
    }

    /// The names of a site registry that certificates may be made for: every site's name
    /// and aliases (the `*.localhost` ones are for the browser's own address bar, not TLS).
    static func names(of registry: SiteRegistry) -> [String] {
        registry.sites.flatMap { [$0.host] + $0.aliases }.filter { !$0.hasSuffix(".localhost") && $0 != "localhost" }
    }

    /// The TLS server context for the simulated site `name`, made (and its certificate
    /// signed) when first asked for.
    ///
    /// - Parameter registry: the sites in force, whose names the authority must cover.
    func context(for name: String, registry: SiteRegistry) throws -> NIOSSLContext {
        try state.withLock { state in
            let now = Date()
            if let kept = state.contexts[name], now.timeIntervalSince(kept.made) < 24 * 3600 { return kept.context }
            let authority = try currentAuthority(&state, covering: Self.names(of: registry), now: now)
            let certificate = try Self.siteCertificate(for: name, key: siteKey, authority: authority, now: now)
            let chain = try [certificate, authority.certificate].map { try NIOSSLCertificate(bytes: Self.der($0), format: .der) }
            let key = try NIOSSLPrivateKey(bytes: Array(siteKey.pemRepresentation.utf8), format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.applicationProtocols = ["http/1.1"]
            let context = try NIOSSLContext(configuration: configuration)
            state.contexts[name] = (context, now)
            return context
        }
    }

    /// The authority's certificate in PEM, made if there is none yet (for a page or a test
    /// to hand to a client that should trust it).
    func authorityPEM(registry: SiteRegistry) throws -> String {
        try state.withLock { state in
            try currentAuthority(&state, covering: Self.names(of: registry), now: Date()).certificate.serializeAsPEM().pemString
        }
    }

    /// The authority in use, loaded or made so that it is valid for a while yet and covers
    /// `names`. A new one drops the site certificates the old one signed.
    private func currentAuthority(_ state: inout State, covering names: [String], now: Date) throws -> Authority {
        func usable(_ authority: Authority) -> Bool {
            authority.certificate.notValidAfter > now.addingTimeInterval(8 * 24 * 3600) && names.allSatisfy(authority.permits)
        }
        if let authority = state.authority, usable(authority) { return authority }
        if state.authority == nil, let kept = loadKept(), usable(kept) {
            state.authority = kept
            return kept
        }
        let made = try Self.makeAuthority(names: names, now: now)
        if let certificateFile {
            if FileManager.default.fileExists(atPath: certificateFile) {
                logger.warning(
                    "made a new certificate authority for the simulated sites (the old one had expired or did not cover every site); where a device trusted \(certificateFile), install it again"
                )
            }
            keep(made)
        }
        state.authority = made
        state.contexts = [:]
        return made
    }

    /// The authority kept in the folder, if both files are there and read.
    private func loadKept() -> Authority? {
        guard let certificateFile, let keyFile,
              let certificateText = try? String(contentsOfFile: certificateFile, encoding: .utf8),
              let keyText = try? String(contentsOfFile: keyFile, encoding: .utf8)
        else { return nil }
        do {
            let certificate = try Certificate(pemEncoded: certificateText)
            let key = try P256.Signing.PrivateKey(pemRepresentation: keyText)
            guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
                logger.warning("\(keyFile) is not the key of \(certificateFile); making a new certificate authority")
                return nil
            }
            let constraints = try certificate.extensions.nameConstraints
            let permitted = constraints.map { Array($0.permittedDNSDomains) } ?? []
            return Authority(key: key, certificate: certificate, permittedNames: permitted)
        } catch {
            logger.warning("\(certificateFile) cannot be read (\(error)); making a new certificate authority")
            return nil
        }
    }

    /// Writes the authority's certificate, and its key readable by the owner only, each
    /// whole (written aside, then renamed).
    private func keep(_ authority: Authority) {
        guard let certificateFile, let keyFile else { return }
        do {
            try ConfigDirectory.writeWhole(authority.key.pemRepresentation, to: keyFile, permissions: 0o600)
            try ConfigDirectory.writeWhole(try authority.certificate.serializeAsPEM().pemString + "\n", to: certificateFile, permissions: 0o644)
        } catch {
            logger.warning("cannot keep the certificate authority in \(certificateFile) (\(error)); it lives in memory for this run")
        }
    }

    /// A new authority: a P-256 key, a self-signed certificate for a year, constrained to `names`.
    static func makeAuthority(names: [String], now: Date) throws -> Authority {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName("Walled Garden")
            CommonName("Walled Garden classroom authority (simulated sites only)")
        }
        let permitted = Array(Set(names)).sorted()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            Critical(NameConstraints(permittedDNSDomains: permitted))
            SubjectKeyIdentifier(hash: publicKey)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 24 * 3600),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return Authority(key: key, certificate: certificate, permittedNames: permitted)
    }

    /// A site's certificate: `name` for a week, for serving TLS only.
    static func siteCertificate(for name: String, key: P256.Signing.PrivateKey, authority: Authority, now: Date) throws -> Certificate {
        let publicKey = Certificate.PublicKey(key.publicKey)
        let authorityKey = Certificate.PublicKey(authority.key.publicKey)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames([.dnsName(name)])
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: authorityKey).keyIdentifier)
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: min(now.addingTimeInterval(7 * 24 * 3600), authority.certificate.notValidAfter),
            issuer: authority.certificate.subject, subject: try DistinguishedName { CommonName(name) },
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(authority.key)
        )
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}

import Foundation
import CurveCertificates
import Testing
import ZeroMQ

/// Certificates in ZeroMQ's ZPL files: both writers' forms, ours, and files that must be refused.
@Suite("CURVE certificates")
struct CurveCertificateTests {
    /// A pair made once by CZMQ's rules (values quoted, metadata in both files).
    static let czmqSecret = """
        #   ****  Generated on 2026-12-08 10:00:00 by CZMQ  ****
        #   ZeroMQ CURVE **Secret** Certificate
        #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

        metadata
            name = "dev-1"
            role = "agent"
        curve
            public-key = "\(pair.publicKey.z85)"
            secret-key = "\(pair.secretKey.z85)"

        """

    static let pair: CurveKeyPair = try! CurveKeyPair.generate()

    @Test("Z85 keys: 40 characters for 32 bytes, both ways; anything else is refused")
    func z85() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.z85.utf8.count == 40)
        #expect(CurveKey(z85: pair.publicKey.z85) == pair.publicKey)
        #expect(try CurveKeyPair.publicKey(for: pair.secretKey) == pair.publicKey)
        #expect(CurveKey(z85: String(pair.publicKey.z85.dropLast())) == nil)
        #expect(CurveKey(z85: String(repeating: "~", count: 40)) == nil)  // '~' is not in Z85's alphabet
        #expect(CurveKey(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(!pair.secretKey.description.contains(pair.secretKey.z85))
    }

    @Test("CZMQ's form: quoted values, metadata read from the file")
    func czmqForm() throws {
        let certificate = try CurveCertificate.parse(Self.czmqSecret)
        #expect(certificate.publicKey == Self.pair.publicKey)
        #expect(certificate.secretKey == Self.pair.secretKey)
        #expect(certificate[metadata: "name"] == "dev-1")
        #expect(certificate[metadata: "role"] == "agent")
    }

    @Test("pyzmq's form: metadata unquoted (values may hold '#' and '='), a public file with an empty metadata section")
    func pyzmqForm() throws {
        let secret = """
            #   ****  Generated on 2026-12-08 10:00:00.123456 by pyzmq  ****
            #   ZeroMQ CURVE **Secret** Certificate

            metadata
                owner = team #3 = ops
            curve
                public-key = "\(Self.pair.publicKey.z85)"
                secret-key = "\(Self.pair.secretKey.z85)"

            """
        let certificate = try CurveCertificate.parse(secret)
        #expect(certificate[metadata: "owner"] == "team #3 = ops")
        let publicFile = "metadata\ncurve\n    public-key = \"\(Self.pair.publicKey.z85)\"\n"
        let publicOnly = try CurveCertificate.parse(publicFile)
        #expect(publicOnly.secretKey == nil && publicOnly.metadata.isEmpty)
    }

    @Test("CRLF line ends load, and an error never quotes the line (it may hold a secret key)")
    func crlfAndQuietErrors() throws {
        let crlf = Self.czmqSecret.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try CurveCertificate.parse(crlf).secretKey == Self.pair.secretKey)
        let typo = "curve\n    secret-key \"\(Self.pair.secretKey.z85)\"\n"
        #expect {
            _ = try CurveCertificate.parse(typo)
        } throws: { error in
            !"\(error)".contains(Self.pair.secretKey.z85) && "\(error)".contains("line 2")
        }
        #expect(!"\(Self.pair)".contains(Self.pair.secretKey.z85))
    }

    @Test("ours render and parse back, public and secret forms")
    func roundTrip() throws {
        let certificate = try CurveCertificate.generate(metadata: [("name", "x"), ("services", "dev,qa")])
        let secret = try CurveCertificate.parse(certificate.render(includeSecret: true, generatedAt: "now"))
        #expect(secret == certificate)
        let publicForm = certificate.render(includeSecret: false, generatedAt: "now")
        #expect(!publicForm.contains(certificate.secretKey!.z85))
        #expect(try CurveCertificate.parse(publicForm).secretKey == nil)
    }

    @Test("malformed files are refused with the reason", arguments: [
        ("", "no curve/public-key"),
        ("curve\n    public-key = \"short\"\n", "not 40 characters of Z85"),
        ("curve\n    public-key = \"unterminated\n", "no closing"),
        ("curve\n   public-key = \"x\"\n", "multiple of 4"),
        ("curve\n        public-key = \"x\"\n", "one level at a time"),
        ("curve\n    pub key = \"x\"\n", "expected 'name = value'"),
    ])
    func malformed(text: String, reason: String) {
        #expect {
            _ = try CurveCertificate.parse(text, path: "bad.key")
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".hasPrefix("bad.key: ")
        }
    }

    @Test("a secret key that does not belong to the public key is refused")
    func mismatchedPair() throws {
        let other = try CurveKeyPair.generate()
        let text = "curve\n    public-key = \"\(Self.pair.publicKey.z85)\"\n    secret-key = \"\(other.secretKey.z85)\"\n"
        #expect(throws: CertificateError.self) { try CurveCertificate.parse(text) }
    }

    @Test("metadata that ZPL cannot carry is refused before it is written")
    func metadataValidation() {
        #expect(throws: CertificateError.self) { try CurveCertificate.validateMetadata(name: "role", value: "a\"b") }
        #expect(throws: CertificateError.self) { try CurveCertificate.validateMetadata(name: "bad name", value: "x") }
        #expect(throws: Never.self) { try CurveCertificate.validateMetadata(name: "services", value: "dev,qa") }
    }
}

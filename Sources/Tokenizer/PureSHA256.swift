// Pure-Swift SHA-256 (FIPS 180-4). Linux has no CryptoKit and the package takes
// no dependencies, so the ranks-file integrity check needs its own hash. It is
// one-shot (the whole ranks file is in memory anyway) and works on raw pointers
// so that hashing the 1.7 MB file costs a few milliseconds in release builds.

/// A small, dependency-free SHA-256 implementation used to verify ranks files.
public enum PureSHA256 {
    /// Returns the 32-byte SHA-256 digest of `input`.
    public static func digest(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        var state: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
            0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        let fullBlocks = input.count / 64
        // The tail holds the leftover bytes plus padding: one or two blocks.
        var tail = [UInt8](repeating: 0, count: 128)
        let rest = input.count - fullBlocks * 64
        for i in 0..<rest { tail[i] = input[fullBlocks * 64 + i] }
        tail[rest] = 0x80
        let tailBlocks = rest + 9 <= 64 ? 1 : 2
        let bitLength = UInt64(input.count) &* 8
        for i in 0..<8 {
            tail[tailBlocks * 64 - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))
        }
        state.withUnsafeMutableBufferPointer { st in
            roundConstants.withUnsafeBufferPointer { k in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                    if let base = input.baseAddress {
                        for b in 0..<fullBlocks {
                            compress(base + b * 64, st.baseAddress!, k.baseAddress!, w.baseAddress!)
                        }
                    }
                    tail.withUnsafeBytes { t in
                        for b in 0..<tailBlocks {
                            compress(t.baseAddress! + b * 64, st.baseAddress!, k.baseAddress!, w.baseAddress!)
                        }
                    }
                }
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in state {
            out.append(UInt8(word >> 24)); out.append(UInt8((word >> 16) & 0xff))
            out.append(UInt8((word >> 8) & 0xff)); out.append(UInt8(word & 0xff))
        }
        return out
    }

    /// Lower-case hex SHA-256 of a byte array.
    public static func hexDigest(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex(digest($0)) }
    }

    /// Lower-case hex SHA-256 of the UTF-8 encoding of `string`.
    public static func hexDigest(_ string: String) -> String {
        hexDigest(Array(string.utf8))
    }

    /// Lower-case hexadecimal rendering of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var chars = [UInt8]()
        chars.reserveCapacity(bytes.count * 2)
        for b in bytes {
            chars.append(digits[Int(b >> 4)])
            chars.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: chars, as: UTF8.self)
    }

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x >> n) | (x << (32 - n))
    }

    /// One 64-byte block. Raw pointers keep the inner loops free of bounds checks.
    private static func compress(
        _ block: UnsafeRawPointer, _ st: UnsafeMutablePointer<UInt32>,
        _ k: UnsafePointer<UInt32>, _ w: UnsafeMutablePointer<UInt32>
    ) {
        for i in 0..<16 {
            w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
        }
        for i in 16..<64 {
            let x = w[i - 15], y = w[i - 2]
            let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3)
            let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var a = st[0], b = st[1], c = st[2], d = st[3]
        var e = st[4], f = st[5], g = st[6], h = st[7]
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        st[0] &+= a; st[1] &+= b; st[2] &+= c; st[3] &+= d
        st[4] &+= e; st[5] &+= f; st[6] &+= g; st[7] &+= h
    }

    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}

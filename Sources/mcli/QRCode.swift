import CQRencode

/// A QR code of a text, drawn in the terminal with Unicode half blocks (two
/// module rows per line). Light modules and the quiet zone are drawn as
/// blocks, like `qrencode -t UTF8`, which reads well on dark terminals.
enum QRCode {
    static func render(_ text: String, quietZone: Int = 2) -> String? {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let data = code.pointee.data!
        func dark(_ x: Int, _ y: Int) -> Bool {
            guard x >= 0, y >= 0, x < width, y < width else { return false }
            return data[y * width + x] & 1 == 1
        }
        var out = ""
        let range = -quietZone..<(width + quietZone)
        var y = -quietZone
        while y < width + quietZone {
            for x in range {
                let top = !dark(x, y), bottom = y + 1 < width + quietZone ? !dark(x, y + 1) : false
                out += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " "
            }
            out += "\n"
            y += 2
        }
        return out
    }
}

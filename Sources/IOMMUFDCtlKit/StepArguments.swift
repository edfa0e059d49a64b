/// The `key=value` words of one step line, taken one by one as the step's parser
/// consumes them (what is left over is an unknown argument).
struct StepArguments {
    let line: Int
    let file: String
    var values: [String: String] = [:]
    var order: [String] = []

    init(line: Int, file: String) { self.line = line; self.file = file }

    func has(_ key: String) -> Bool { values[key] != nil }

    mutating func take(_ key: String) -> String? {
        defer { values[key] = nil }
        return values[key]
    }

    mutating func require(_ key: String, _ step: String) throws(StepFileError) -> String {
        guard let v = take(key) else {
            throw StepFileError(file: file, line: line, message: "missing argument '\(key)' for step '\(step)'")
        }
        return v
    }

    mutating func number(_ key: String, _ step: String) throws(StepFileError) -> UInt64 {
        let text = try require(key, step)
        guard let v = Numbers.parse(text) else {
            throw StepFileError(file: file, line: line, message: "bad number '\(text)' for \(key)")
        }
        return v
    }

    mutating func optionalNumber(_ key: String) throws(StepFileError) -> UInt64? {
        guard let text = take(key) else { return nil }
        guard let v = Numbers.parse(text) else {
            throw StepFileError(file: file, line: line, message: "bad number '\(text)' for \(key)")
        }
        return v
    }

    mutating func flag(_ key: String) throws(StepFileError) -> Bool {
        guard let text = take(key) else { return false }
        switch text.lowercased() {
        case "1", "yes", "true", "on": return true
        case "0", "no", "false", "off": return false
        default: throw StepFileError(file: file, line: line, message: "bad flag '\(text)' for \(key): use 1 or 0")
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }

    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

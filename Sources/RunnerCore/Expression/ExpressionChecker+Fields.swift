/// Field paths (`run.id`, `steps.X.progress`): read where the scope offers fields.
extension ExpressionChecker {
    mutating func fieldType(_ path: [String], _ node: ExpressionNode) -> ExpressionType? {
        guard let resolve = scope.fields else {
            reportWithoutFields(path, node)
            return nil
        }
        if let type = resolve(path) { return type }
        let name = path.joined(separator: ".")
        report(.expressionSyntax, "unknown field '\(name)' in \(scope.owner)", node,
               hint: fieldHint(for: name, path[0]))
        return nil
    }

    /// The nearest field under the same root (`run.`), else those fields; with no field under
    /// that root, the nearest of all, else all of them. Names under one root are compared
    /// without it, which every one of them shares.
    private func fieldHint(for name: String, _ root: String) -> String {
        let prefix = root + "."
        let sameRoot = scope.fieldNames.filter { $0.hasPrefix(prefix) }
        if !sameRoot.isEmpty {
            let rest = sameRoot.map { String($0.dropFirst(prefix.count)) }
            if let near = Suggestion.closest(to: String(name.dropFirst(prefix.count)), in: rest) {
                return "did you mean '\(prefix)\(near)'?"
            }
            return "fields here: " + sameRoot.joined(separator: ", ")
        }
        if let hint = Suggestion.hint(for: name, in: scope.fieldNames) { return hint }
        guard !scope.fieldNames.isEmpty else { return "\(scope.owner) offers no fields" }
        return "fields here: " + scope.fieldNames.joined(separator: ", ")
    }

    /// Where no scope offers fields, a field path is reported as the parser reported it before
    /// fields existed (code, message, location and hint), so every golden keeps its bytes: at
    /// its root (`unknown name 'foo'`), or at the step's field (`steps have no field 'x'`).
    private mutating func reportWithoutFields(_ path: [String], _ node: ExpressionNode) {
        let error: ExpressionSyntaxError
        if path.count > 2, path[0] == "steps" {
            let offset = segmentOffset(2, of: node) ?? node.offset
            error = ExpressionParser.unknownStepField(path[2], offset: offset, length: path[2].unicodeScalars.count)
        } else {
            error = ExpressionParser.unknownName(path[0], offset: node.offset, length: path[0].unicodeScalars.count)
        }
        // The decoder prefixes a syntax error with the expression's owner; so does this.
        diagnostics.append(Diagnostic(error.code, "\(scope.owner): \(error.message)",
                                      at: expression.source.location(atOffset: error.offset), length: error.length,
                                      hint: error.hint ?? error.code.help))
    }

    /// The offset of the path's `index`th name: spaces may stand around its dots.
    private func segmentOffset(_ index: Int, of node: ExpressionNode) -> Int? {
        let scalars = expression.text.unicodeScalars
        guard node.offset + node.length <= scalars.count else { return nil }
        let start = scalars.index(scalars.startIndex, offsetBy: node.offset)
        let end = scalars.index(start, offsetBy: node.length)
        guard case .success(let tokens) = ExpressionLexer.tokenize(String(scalars[start..<end])) else { return nil }
        let names = tokens.filter { if case .identifier = $0.kind { true } else { false } }
        return index < names.count ? node.offset + names[index].offset : nil
    }
}

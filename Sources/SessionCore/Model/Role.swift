/// Who wrote a chat message.
public enum Role: String, Sendable, CaseIterable {
    case system, user, assistant, tool
}

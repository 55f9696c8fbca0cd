import IManageWire

extension FormLimits {
    /// What the emulator's endpoints read: at most 64 parameters (iManage's requests carry a
    /// handful); the body is capped at 64 KiB before it is read.
    static let emulator = FormLimits(maximumParameters: 64)
}

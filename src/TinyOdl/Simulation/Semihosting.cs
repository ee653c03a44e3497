namespace TinyOdl.Simulation;

/// <summary>
/// RISC-V semihosting (the RISC-V Semihosting specification, over the Arm semihosting operations), as QEMU
/// provides it with <c>-semihosting-config enable=on,target=native</c>: an <c>ebreak</c> between the marker
/// instructions <c>slli x0, x0, 0x1f</c> and <c>srai x0, x0, 7</c> is a host call with the operation in a0 and the
/// parameter in a1; the result goes to a0. Supported: SYS_WRITEC, SYS_WRITE0, SYS_WRITE (to fd 1 and 2),
/// SYS_EXIT and SYS_EXIT_EXTENDED, which is what firmware/semihost.c uses (SYS_WRITE0, SYS_EXIT_EXTENDED).
/// </summary>
public sealed class Semihosting(Ram ram, Stream stdout, Stream stderr)
{
    public const uint SlliMarker = 0x01F01013, SraiMarker = 0x40705013;
    public const uint SysWritec = 0x03, SysWrite0 = 0x04, SysWrite = 0x05, SysExit = 0x18, SysExitExtended = 0x20;
    public const uint ApplicationExit = 0x20026;
    /// <summary>What QEMU leaves in a0 after SYS_WRITEC and SYS_WRITE0, whose result the specification calls "corrupted".</summary>
    public const uint Corrupted = 0xDEADBEEF;

    /// <summary>Whether the 32-bit ebreak at <paramref name="pc"/> sits between the two marker instructions.</summary>
    public bool IsCall(uint pc) =>
        pc >= 4 && ram.Contains(pc - 4, 12) && ram.Read<uint>(pc - 4) == SlliMarker && ram.Read<uint>(pc + 4) == SraiMarker;

    /// <summary>The outcome of one call: continue with a0 = Result, or exit with a status, or an error.</summary>
    public readonly record struct Outcome(uint Result, int? ExitStatus, string? Error);

    public Outcome Call(uint operation, uint parameter)
    {
        switch (operation)
        {
            case SysWritec:
                if (!ram.Contains(parameter, 1)) return Bad(operation, parameter);
                stdout.WriteByte(ram.Read<byte>(parameter));
                return new(Corrupted, null, null);
            case SysWrite0:
            {
                var text = ram.ReadCString(parameter);
                if (text is null) return Bad(operation, parameter);
                stdout.Write(text);
                return new(Corrupted, null, null);
            }
            case SysWrite:
            {
                if (!ram.Contains(parameter, 12)) return Bad(operation, parameter);
                uint fd = ram.Read<uint>(parameter), buffer = ram.Read<uint>(parameter + 4), length = ram.Read<uint>(parameter + 8);
                if (fd is not (1 or 2)) return new(0, null, $"semihosting SYS_WRITE to file descriptor {fd}: only 1 (stdout) and 2 (stderr) exist");
                if (!ram.Contains(buffer, length)) return Bad(operation, buffer);
                (fd == 1 ? stdout : stderr).Write(ram.Bytes, (int)(buffer - ram.Origin), (int)length);
                return new(0, null, null);        // bytes not written
            }
            case SysExit:
                // RV32: the parameter is the reason itself; only "application exit" is success.
                return new(0, parameter == ApplicationExit ? 0 : 1, null);
            case SysExitExtended:
            {
                if (!ram.Contains(parameter, 8)) return Bad(operation, parameter);
                uint reason = ram.Read<uint>(parameter), code = ram.Read<uint>(parameter + 4);
                return new(0, reason == ApplicationExit ? (int)code : 1, null);
            }
            default:
                return new(0, null, $"unsupported semihosting operation 0x{operation:x2} (parameter 0x{parameter:x8})");
        }
    }

    private static Outcome Bad(uint operation, uint address) =>
        new(0, null, $"semihosting operation 0x{operation:x2}: parameter address 0x{address:x8} is outside RAM");
}

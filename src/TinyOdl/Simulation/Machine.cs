using TinyOdl.Targets;

namespace TinyOdl.Simulation;

/// <summary>What the simulated machine is: RAM, ISA, vector length. Read from a board description.</summary>
public sealed record MachineConfig(string Name, uint RamOrigin, uint RamSize, IsaFeatures Features, int VlenBits, int ElenBits = 64)
{
    public static MachineConfig FromBoard(Board board)
    {
        if (board.RamOrigin > uint.MaxValue || board.RamBytes <= 0 || (ulong)board.RamBytes + board.RamOrigin > 1UL << 32)
            throw TinyOdlException.At($"board '{board.Name}'", "RAM does not fit the 32-bit address space");
        var features = IsaFeaturesExtensions.FromExtensions(board.Extensions);
        return new MachineConfig(board.Name, (uint)board.RamOrigin, (uint)board.RamBytes, features, board.HasVector ? board.Vlen : 0);
    }
}

/// <summary>
/// One simulated machine: the hart, its RAM, the semihosting console, and the predecode cache. The program is
/// loaded like QEMU's <c>-kernel</c> with <c>-bios none</c>: every PT_LOAD segment is copied to its physical
/// address (the rest of the segment zeroed) and the hart starts at the ELF entry point.
/// </summary>
public sealed class Machine
{
    public Machine(MachineConfig config, Stream stdout, Stream stderr)
    {
        Config = config;
        Ram = new Ram(config.RamOrigin, config.RamSize);
        Hart = new Hart(config.Features, config.VlenBits);
        Semihosting = new Semihosting(Ram, stdout, stderr);
        Code = new DecodeCache(config.RamOrigin, config.RamOrigin);
    }

    public MachineConfig Config { get; }
    public Ram Ram { get; }
    public Hart Hart { get; }
    public Semihosting Semihosting { get; }
    public DecodeCache Code { get; private set; }
    public ElfProgram? Program { get; private set; }

    public void Load(ElfProgram program)
    {
        foreach (var s in program.Segments)
        {
            if (!Ram.TryLoad(s.Address, s.Data) || !Ram.Contains(s.Address, s.MemorySize))
                throw TinyOdlException.At(program.Path,
                    $"segment at 0x{s.Address:x8} ({s.MemorySize} bytes) lies outside RAM 0x{Config.RamOrigin:x8}..0x{(ulong)Config.RamOrigin + Config.RamSize:x8} of board '{Config.Name}'");
            Ram.Bytes.AsSpan((int)(s.Address - Ram.Origin) + s.Data.Length, (int)s.MemorySize - s.Data.Length).Clear();
        }
        var code = program.Segments.Where(s => s.Executable).ToArray();
        Code = code.Length == 0 ? new DecodeCache(Ram.Origin, Ram.Origin)
            : new DecodeCache(code.Min(s => s.Address), code.Max(s => s.Address + s.MemorySize));
        Hart.Pc = program.Entry;
        ResetRegisters(program.Entry);
        Program = program;
    }

    /// <summary>
    /// The registers QEMU's reset vector leaves at the entry point with <c>-bios none</c> (hw/riscv/boot.c: it
    /// computes a2 = the address of its fw_dynamic block in the boot ROM at 0x1000, reads a0 = mhartid, a1 = the device
    /// tree's address, t0 = the entry point, and jumps there): t0 = entry, a0 = 0, a1 = the start of the last 2 MiB below
    /// min(RAM end, 3 GiB), a2 = 0x1028. The device tree itself is not written (the simulated RAM stays zero there).
    /// </summary>
    private void ResetRegisters(uint entry)
    {
        const uint TwoMiB = 2u << 20, ThreeGiB = 0xC0000000;
        ulong ramEnd = (ulong)Ram.Origin + Ram.Size;
        ulong top = Ram.Origin < ThreeGiB ? Math.Min(ramEnd, ThreeGiB) : ramEnd;
        Hart.X[5] = entry;
        Hart.X[10] = 0;
        Hart.X[11] = top > TwoMiB ? (uint)((top - 1) & ~(ulong)(TwoMiB - 1)) : 0;
        Hart.X[12] = 0x1028;
    }
}

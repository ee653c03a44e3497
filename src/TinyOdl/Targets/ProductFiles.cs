namespace TinyOdl.Targets;

/// <summary>
/// Locates the files TinyOdl ships beside its binaries (boards/, firmware/): copied next to the assembly by
/// the build, or found in the source tree when running from a checkout. TINYODL_HOME overrides both.
/// </summary>
public static class ProductFiles
{
    private static string? _root;

    /// <summary>The folder holding boards/, firmware/ and toolchain/ (found on first use; a bad TINYODL_HOME is a user error).</summary>
    public static string Root => _root ??= FindRoot();

    public static string Boards => Path.Combine(Root, "boards");
    public static string Firmware => Path.Combine(Root, "firmware");
    /// <summary>toolchain/flags.mk: compiler flags shared by every output folder.</summary>
    public static string ToolchainFlags => Path.Combine(Root, "toolchain", "flags.mk");

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("TINYODL_HOME") is { Length: > 0 } home)
        {
            // An explicit home must be complete: silently falling back would use other boards than asked for.
            var missing = new[] { "boards", "firmware/harness.c", "toolchain/flags.mk" }
                .Where(p => !Path.Exists(Path.Combine(home, p))).ToArray();
            if (missing.Length > 0)
                throw new TinyOdlException($"TINYODL_HOME={home}: missing {string.Join(", ", missing)}");
            return home;
        }
        var candidates = new List<string>();
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            candidates.Add(dir.FullName);
        foreach (var c in candidates)
            if (Directory.Exists(Path.Combine(c, "boards")) && File.Exists(Path.Combine(c, "firmware", "harness.c"))
                && File.Exists(Path.Combine(c, "toolchain", "flags.mk")))
                return c;
        throw new TinyOdlException("installation: cannot find the boards/ and firmware/ folders (set TINYODL_HOME to the TinyOdl folder)");
    }
}

namespace TinyOdl;

/// <summary>
/// A problem with the user's input (model file, board name, data set...). The CLI prints
/// <see cref="Exception.Message"/> as one line and exits with code 2; it never shows a stack trace.
/// </summary>
public sealed class TinyOdlException : Exception
{
    public TinyOdlException(string message) : base(message) { }
    public TinyOdlException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Formats "where: why" so every error names the file, node or field it is about.</summary>
    public static TinyOdlException At(string where, string why) => new($"{where}: {why}");
}

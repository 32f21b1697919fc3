namespace MlRounding;

/// <summary>
/// A model entry written by MlRounding (a rounding transform, a network, a grid) is corrupt, truncated, or from a newer
/// format version than this library reads. Raised only by MlRounding's own readers, always before anything is
/// allocated from an implausible length; the message says which entry and what was wrong. Derives from
/// <see cref="FormatException"/>, so code that catches that still works.
/// </summary>
public sealed class ModelFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong, naming the entry.</param>
    public ModelFormatException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What was wrong, naming the entry.</param>
    /// <param name="innerException">The exception that revealed it (e.g. an <see cref="EndOfStreamException"/>).</param>
    public ModelFormatException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

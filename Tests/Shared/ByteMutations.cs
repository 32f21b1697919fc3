using CsCheck;

namespace MlRounding.Tests.Shared;

/// <summary>
/// Mutations of a file's bytes for the format fuzz tests (CsCheck generates them; a failure prints the seed to replay
/// with <c>CsCheck_Seed</c>): 1 to 4 bytes overwritten, an aligned int32 set to an extreme, the bytes truncated, or
/// bytes appended. Each format test runs <see cref="Iterations"/> inputs: 20,000 in the suite, or what
/// <c>CsCheck_Iter</c> / <c>CsCheck_Time</c> ask for (docs/reliability.md).
/// </summary>
internal static class ByteMutations
{
    private static readonly int[] Extremes = { 0, -1, 1, int.MaxValue, int.MinValue, 1 << 24, 1 << 30, 65536, 255, 256 };

    /// <summary>The iterations to pass to CsCheck's <c>Sample</c>: -1 (CsCheck reads the environment) when the user set them, else the suite's count.</summary>
    public static long Iterations(long suite = 20_000) =>
        Environment.GetEnvironmentVariable("CsCheck_Iter") is not null || Environment.GetEnvironmentVariable("CsCheck_Time") is not null ? -1 : suite;

    /// <summary>
    /// The seed to pass to CsCheck's <c>Sample</c>: <paramref name="suite"/> for the suite's runs, so that CI sees the same
    /// inputs every time; null (CsCheck draws one, or reads <c>CsCheck_Seed</c>) when the user asked for a longer run.
    /// </summary>
    public static string? Seed(string suite) =>
        Environment.GetEnvironmentVariable("CsCheck_Iter") is not null || Environment.GetEnvironmentVariable("CsCheck_Time") is not null || Environment.GetEnvironmentVariable("CsCheck_Seed") is not null ? null : suite;

    /// <summary>The mutations of <paramref name="original"/>.</summary>
    public static Gen<byte[]> Of(byte[] original) =>
        Gen.Select(Gen.Int[0, 3], Gen.Double[0, 1], Gen.Byte.Array[1, 4], Gen.Int[0, Extremes.Length - 1], (kind, position, bytes, extreme) =>
        {
            int at = Math.Clamp((int)(position * original.Length), 0, Math.Max(0, original.Length - 1));
            byte[] copy = (byte[])original.Clone();
            switch (kind)
            {
                case 0:
                    for (int i = 0; i < bytes.Length && at + i < copy.Length; i++)
                    {
                        copy[at + i] = bytes[i];
                    }

                    return copy;
                case 1:
                    int aligned = at & ~3;
                    BitConverter.GetBytes(Extremes[extreme]).AsSpan(0, Math.Min(4, copy.Length - aligned)).CopyTo(copy.AsSpan(aligned));
                    return copy;
                case 2:
                    return copy[..at];
                default:
                    return copy.Concat(bytes).ToArray();
            }
        });
}

using System.Runtime.InteropServices;

namespace MlRounding.Native;

/// <summary>
/// Keeps glibc's allocator from handing LibTorch's per-step tensors back to the kernel and faulting them in again.
/// </summary>
/// <remarks>
/// <para>
/// A training step allocates and frees the same tensors (megabytes each for a convolutional batch) thousands of times.
/// With glibc's defaults, blocks from 128 KB up are mapped and unmapped on every allocation until its dynamic threshold
/// catches up, and the top of the heap is trimmed back to the kernel whenever more than twice that threshold is free, so
/// each step pays page faults for memory it had a moment ago (PyTorch's CPU performance guides recommend another
/// allocator for the same reason). Raising the mapping threshold to 32 MiB (the most glibc's dynamic threshold reaches by itself) and the trim threshold to
/// 256 MiB took a Fashion-MNIST W4A8 CNN epoch from about 26-35 s to 8-9 s on 2 cores at the same peak resident memory
/// (docs/benchmarks.md).
/// </para>
/// <para>
/// The settings are process-wide (<c>mallopt</c>), applied once, before training, on Linux with glibc only, and left
/// alone when the environment's <c>GLIBC_TUNABLES</c> already sets a <c>glibc.malloc.</c> tunable (the user's choice
/// wins). Up to 256 MiB of freed native memory may then stay with the process instead of returning to the kernel.
/// </para>
/// </remarks>
internal static class NativeAllocator
{
    /// <summary><c>M_TRIM_THRESHOLD</c>.</summary>
    internal const int TrimThresholdParameter = -1;

    /// <summary><c>M_MMAP_THRESHOLD</c>.</summary>
    internal const int MapThresholdParameter = -3;

    /// <summary>The mapping threshold: the largest that glibc's dynamic threshold reaches by itself on 64-bit systems (<c>DEFAULT_MMAP_THRESHOLD_MAX</c>).</summary>
    internal const int MapThreshold = 32 << 20;

    /// <summary>The free memory at the top of the heap kept before trimming.</summary>
    internal const int TrimThreshold = 256 << 20;

    private static readonly object Gate = new();
    private static bool _done;

    /// <summary>Gets a one-line description of what <see cref="ConfigureForTraining"/> did, for diagnostics.</summary>
    internal static string Status { get; private set; } = "not run";

    /// <summary>Applies the thresholds once per process where <see cref="Applies"/> says so; later calls do nothing.</summary>
    internal static void ConfigureForTraining()
    {
        lock (Gate)
        {
            if (_done)
            {
                return;
            }

            _done = true;
            if (!Applies(OperatingSystem.IsLinux(), Environment.GetEnvironmentVariable("GLIBC_TUNABLES"), out string reason))
            {
                Status = reason;
                return;
            }

            IntPtr mallopt = MalloptAddress();
            Status = mallopt == IntPtr.Zero ? "not glibc (no mallopt in libc.so.6): left as it is" : Apply(mallopt);
        }
    }

    /// <summary>Sets both thresholds through the <c>mallopt</c> at <paramref name="mallopt"/> and says what happened.</summary>
    internal static string Apply(IntPtr mallopt) =>
        Mallopt(mallopt, MapThresholdParameter, MapThreshold) == 1 && Mallopt(mallopt, TrimThresholdParameter, TrimThreshold) == 1
            ? "mmap threshold 32 MiB, trim threshold 256 MiB"
            : "mallopt refused the thresholds";

    /// <summary>Whether the thresholds should be set: on Linux, unless <paramref name="tunables"/> (GLIBC_TUNABLES) sets a malloc tunable.</summary>
    internal static bool Applies(bool linux, string? tunables, out string reason)
    {
        if (!linux)
        {
            reason = "not Linux: left as it is";
            return false;
        }

        if (tunables is not null && tunables.Contains("glibc.malloc.", StringComparison.Ordinal))
        {
            reason = "GLIBC_TUNABLES sets the allocator: left as set";
            return false;
        }

        reason = "applies";
        return true;
    }

    /// <summary>The address of glibc's <c>mallopt</c>, or zero where libc.so.6 is absent or is not glibc (musl, other systems).</summary>
    internal static IntPtr MalloptAddress() =>
        NativeLibrary.TryLoad("libc.so.6", out IntPtr libc) && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _)
            && NativeLibrary.TryGetExport(libc, "mallopt", out IntPtr mallopt)
            ? mallopt
            : IntPtr.Zero;

    /// <summary>Calls the <c>mallopt</c> at <paramref name="address"/>: 1 on success, 0 when glibc refuses the value.</summary>
    internal static int Mallopt(IntPtr address, int parameter, int value) =>
        Marshal.GetDelegateForFunctionPointer<MalloptFunction>(address)(parameter, value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MalloptFunction(int parameter, int value);
}

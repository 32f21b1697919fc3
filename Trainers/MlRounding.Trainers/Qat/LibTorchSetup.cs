using static TorchSharp.torch;

namespace MlRounding.Trainers;

/// <summary>What training and learned rounding do before their first LibTorch call, in one place.</summary>
internal static class LibTorchSetup
{
    /// <summary>
    /// Makes TorchSharp's native library loadable here rather than relying on another assembly's module initializer
    /// (a no-op after the first call), sets glibc's allocator thresholds once per process (<see cref="Native.NativeAllocator"/>),
    /// and LibTorch's threads when <paramref name="threads"/> is given.
    /// </summary>
    public static void ForTraining(int? threads)
    {
        Native.TorchSharpNative.EnsureLoaded();
        Native.NativeAllocator.ConfigureForTraining();
        if (threads is int count)
        {
            set_num_threads(count);
        }
    }
}

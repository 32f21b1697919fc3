using System.Runtime.InteropServices;
using MlRounding.Cli;
using MlRounding.Native;

TorchSharpNative.EnsureLoaded();

// Ctrl+C and SIGTERM stop training between steps; the command then exits with 130 and writes nothing.
using var cancel = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
return MlroundCli.Run(args, Console.Out, Console.Error, TrainingDisplay.Terminal(), cancel.Token);

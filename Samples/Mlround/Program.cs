using MlRounding.Cli;
using MlRounding.Native;

TorchSharpNative.EnsureLoaded();
return MlroundCli.Run(args, Console.Out, Console.Error, TrainingDisplay.Terminal());

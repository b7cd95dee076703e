using Btmc.Bench;

return args.Length > 0 && args[0] == "trace" ? await TraceBenchmark.RunAsync(args[1..])
    : args.Length > 0 && args[0] == "worker" ? await WorkerBenchmark.RunAsync(args[1..])
    : args.Length > 0 && args[0] == "soak" ? await SoakCommand.RunAsync(args[1..])
    : await CaptureBenchmark.RunAsync(args);

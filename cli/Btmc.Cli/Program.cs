using Btmc.Cli;

return await BtmcCli.RunAsync(args, Console.Out, Console.Error);

using Btmc.Functions;

var app = await BtmcServer.BuildAsync(args);
await app.RunAsync();

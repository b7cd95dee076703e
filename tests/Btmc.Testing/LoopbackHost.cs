using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Btmc.Testing;

/// <summary>Kestrel on 127.0.0.1, a free port, every request to one handler: the base of the loopback Azure services.</summary>
public static class LoopbackHost
{
    /// <summary>Starts the server; <paramref name="handler"/> is asked for the handler once the address is known.</summary>
    public static async Task<(WebApplication App, Uri Address)> StartAsync(Func<Func<HttpContext, Task>?> handler, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        app.Run(context => handler() is { } handle ? handle(context) : Task.CompletedTask);
        await app.StartAsync();

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("Kestrel reported no address.");
        return (app, new Uri(addresses.Single().TrimEnd('/') + "/"));
    }
}

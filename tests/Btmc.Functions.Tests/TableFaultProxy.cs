using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Btmc.Functions.Tests;

/// <summary>
/// A reverse proxy on a fixed loopback port in front of Azurite's table service, to put faults between the server and
/// its store: forward (the default), answer every request 503 ServerBusy as the service does when throttled, or be
/// stopped (nothing listens on the port: connection refused, as when Azurite is down) and started again.
/// </summary>
internal sealed class TableFaultProxy : IAsyncDisposable
{
    private readonly Uri _target;
    private readonly HttpClient _forward = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
    private WebApplication? _app;

    private TableFaultProxy(Uri target, int port)
    {
        _target = target;
        Port = port;
    }

    public int Port { get; }

    public bool AnswerServiceUnavailable { get; set; }

    /// <summary>Requests that reached the proxy while it answered 503.</summary>
    public int Refused;

    /// <summary>Starts in front of the table endpoint of an Azurite connection string.</summary>
    public static async Task<TableFaultProxy> StartAsync(string azuriteConnectionString)
    {
        var endpoint = azuriteConnectionString.Split(';').Single(p => p.StartsWith("TableEndpoint=", StringComparison.Ordinal))["TableEndpoint=".Length..];
        var target = new Uri(endpoint);
        var proxy = new TableFaultProxy(new Uri($"{target.Scheme}://{target.Authority}"), LocalServer.FreePort());
        await proxy.StartListeningAsync();
        return proxy;
    }

    /// <summary>The connection string with its table endpoint moved to the proxy.</summary>
    public static string Through(string azuriteConnectionString, TableFaultProxy proxy)
    {
        var endpoint = new Uri(azuriteConnectionString.Split(';').Single(p => p.StartsWith("TableEndpoint=", StringComparison.Ordinal))["TableEndpoint=".Length..]);
        var moved = new UriBuilder(endpoint) { Port = proxy.Port }.Uri.ToString().TrimEnd('/');
        return azuriteConnectionString.Replace(endpoint.ToString().TrimEnd('/'), moved, StringComparison.Ordinal);
    }

    public async Task StartListeningAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops listening: connections are refused until <see cref="StartListeningAsync"/>.</summary>
    public async Task StopListeningAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (AnswerServiceUnavailable)
        {
            Interlocked.Increment(ref Refused);
            context.Response.StatusCode = 503;
            context.Response.ContentType = "application/json;odata=minimalmetadata";
            context.Response.Headers["x-ms-error-code"] = "ServerBusy";
            await context.Response.WriteAsync("{\"odata.error\":{\"code\":\"ServerBusy\",\"message\":{\"lang\":\"en-US\",\"value\":\"The server is busy.\"}}}");
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_target, context.Request.Path + context.Request.QueryString));
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (name is "Host" or "Content-Length" or "Transfer-Encoding" or "Connection")
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await _forward.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (name is "Transfer-Encoding" or "Connection")
            {
                continue;
            }

            context.Response.Headers[name] = values.ToArray();
        }

        await response.Content.CopyToAsync(context.Response.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await StopListeningAsync();
        _forward.Dispose();
    }
}

// Container log records the monitor could not write (a full disk, a log file on a read-only
// filesystem): the container goes on and its records are dropped, but never silently. Each
// dropped record is counted here for the daemon's /metrics (the `counters` request), and the
// monitor's log says once when a container starts losing lines and once when writing works again.
import { messageOf } from '../common/errors';
import type { Logger } from '../common/log';

/** What a log file tells about its failed and resumed writes. */
export interface LogLoss {
  dropped(err: unknown, lines: number, bytes: number): void;
  resumed(): void;
}

/** The monitor's running totals since it started (a new monitor starts from 0, as a counter may). */
export class LogDropCounter {
  lines = 0;
  bytes = 0;

  forContainer(id: string, log: Logger): LogLoss {
    let since = 0;
    return {
      dropped: (err, lines, bytes) => {
        this.lines += lines;
        this.bytes += bytes;
        if (since === 0)
          log.warn({ id, err: messageOf(err) }, 'cannot write the container log: dropping lines');
        since += lines;
      },
      resumed: () => {
        log.info({ id, dropped: since }, 'container log writes resumed');
        since = 0;
      },
    };
  }
}

// Times in the site's time zone (not the browser's): the UTC instant of a wall-clock time there, and back.
import { timeZone } from "./common.js";

const parts = new Intl.DateTimeFormat("en-US", {
  timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

// The wall-clock fields of an instant (ms) in the site's zone.
export function fieldsAt(ms) {
  const f = Object.fromEntries(parts.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: +f.year, month: +f.month, day: +f.day, hour: +f.hour, minute: +f.minute, second: +f.second };
}

const offsetAt = (ms) => {
  const f = fieldsAt(ms);
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - Math.floor(ms / 1000) * 1000;
};

// The instant (ms) when the site's clocks show this date and time ("2026-11-24", "10:30:00").
export function instantOf(date, time = "00:00:00") {
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm, ss] = (time + ":00:00").split(":").map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm, ss || 0);
  const first = guess - offsetAt(guess);
  return guess - offsetAt(first);
}

const pad = (n) => String(n).padStart(2, "0");
export const dateOf = (ms) => { const f = fieldsAt(ms); return `${f.year}-${pad(f.month)}-${pad(f.day)}`; };
export const timeOf = (ms) => { const f = fieldsAt(ms); return `${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`; };
// For <input type="datetime-local"> fields read as site times.
export const localInputOf = (ms) => `${dateOf(ms)}T${timeOf(ms)}`;
export const instantOfLocalInput = (value) => instantOf(value.slice(0, 10), value.slice(11) || "00:00:00");

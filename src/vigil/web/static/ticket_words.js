// The words of tickets, shared by the maintenance and equipment pages.
import { t } from "./common.js";

export const KINDS = {
  offline: t("offline"), frozen: t("picture frozen"), black: t("picture black"), overexposed: t("picture washed out"),
  blurred: t("picture blurred"), covered: t("lens covered"), moved: t("camera moved"), low_fps: t("low frame rate"),
  low_bitrate: t("low bitrate"), restart_loop: t("process restarting in a loop"), disk: t("disk problem"),
  storage: t("stored footage damaged"), degradation: t("picture degrading"), inspection: t("inspection"),
  other: t("other"),
};
export const STATES = {
  open: t("open"), acknowledged: t("acknowledged"), in_progress: t("in progress"), waiting: t("waiting"),
  resolved: t("resolved, being verified"), verified: t("verified"), closed: t("closed"),
};

# Source: Hoki Kim, "Torchattacks: A PyTorch Repository for Adversarial Attacks",
#   https://github.com/Harry24k/adversarial-attacks-pytorch  torchattacks/attack.py (the Attack base
#   class: wrapper_method, __setattr__'s sub-attack registry, targeted modes, least-likely targets with
#   kthvalue, normalization handling in __call__, to_type, __repr__) and torchattacks/attacks/cw.py,
#   deepfool.py, pgdl2.py (attack.py as of commit 14982e69, deepfool.py/pgdl2.py 27e658cf, cw.py 1e822897).
# Carlini-Wagner L2 (tanh-space variable optimized by Adam, f-function with an eye()[labels] one-hot,
# abort_early), DeepFool (per-logit backward to build the Jacobian, then the closest linearized
# boundary) and L2 PGD (random start on the L2 ball, gradient normalization, projection), untargeted
# and targeted (least likely), with and without set_normalization_used, on a small network the script
# defines. Shrunk: attack.py keeps the methods these attacks use (save/load, which time the run and
# write files, and the random-target mode are left out); the model (the library takes any nn.Module)
# is a small conv net trained here for 15 Adam steps on 64 synthetic 1x8x8 "images" in [0, 1] (ten
# noisy class templates); attacks run on 8 test images; steps: CW 50 -> 10, DeepFool 50 -> 3,
# PGDL2 10 -> 5 (CW lr 0.01 -> 0.1, as its docstring advises a stronger setting). The conv before the
# BatchNorm has bias=False: its bias gradient is rounding noise that Adam would amplify. The attack
# classes' long docstrings are shortened. Extra prints (the script's own report() and TwoAttacks, the
# MultiAttack pattern): robust accuracy, mean L2 size of each perturbation, predictions.
import time
from collections import OrderedDict
from collections.abc import Iterable

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

# ---- torchattacks/attack.py ----
def wrapper_method(func):
    def wrapper_func(self, *args, **kwargs):
        result = func(self, *args, **kwargs)
        for atk in self.__dict__.get('_attacks').values():
            eval("atk."+func.__name__+"(*args, **kwargs)")
        return result
    return wrapper_func


class Attack(object):
    r"""
    Base class for all attacks.

    .. note::
        It automatically set device to the device where given model is.
        It basically changes training mode to eval during attack process.
        To change this, please see `set_model_training_mode`.
    """
    def __init__(self, name, model):
        r"""
        Initializes internal attack state.

        Arguments:
            name (str): name of attack.
            model (torch.nn.Module): model to attack.
        """

        self.attack = name
        self._attacks = OrderedDict()
        
        self.set_model(model)
        self.device = next(model.parameters()).device
        self.return_type = 'float'

        # Controls attack mode.
        self.attack_mode = 'default'
        self.supported_mode = ['default']
        self.targeted = False
        self._target_map_function = None

        # Controls when normalization is used.
        self.normalization_used = None
        self._normalization_applied = None

        # Controls model mode during attack.
        self._model_training = False
        self._batchnorm_training = False
        self._dropout_training = False

    def forward(self, inputs, labels=None, *args, **kwargs):
        r"""
        It defines the computation performed at every call.
        Should be overridden by all subclasses.
        """
        raise NotImplementedError
        
    @wrapper_method
    def set_model(self, model):
        self.model = model
        self.model_name = str(model).split("(")[0]

    def get_logits(self, inputs, labels=None, *args, **kwargs):
        if self._normalization_applied is False:
            inputs = self.normalize(inputs)
        logits = self.model(inputs)
        return logits

    @wrapper_method
    def _set_normalization_applied(self, flag):
        self._normalization_applied = flag
        print(self.__class__.__name__, flag)
    
    @wrapper_method
    def set_device(self, device):
        self.device = device

    @wrapper_method
    def set_normalization_used(self, mean, std):
        self.normalization_used = {}
        n_channels = len(mean)
        mean = torch.tensor(mean).reshape(1, n_channels, 1, 1)
        std = torch.tensor(std).reshape(1, n_channels, 1, 1)
        self.normalization_used['mean'] = mean
        self.normalization_used['std'] = std
        self._normalization_applied = True

    def normalize(self, inputs):
        mean = self.normalization_used['mean'].to(inputs.device)
        std = self.normalization_used['std'].to(inputs.device)
        return (inputs - mean) / std

    def inverse_normalize(self, inputs):
        mean = self.normalization_used['mean'].to(inputs.device)
        std = self.normalization_used['std'].to(inputs.device)
        return inputs*std + mean

    def get_mode(self):
        r"""
        Get attack mode.

        """
        return self.attack_mode

    @wrapper_method
    def set_mode_default(self):
        r"""
        Set attack mode as default mode.

        """
        self.attack_mode = 'default'
        self.targeted = False
        print("Attack mode is changed to 'default.'")

    @wrapper_method
    def _set_mode_targeted(self, mode):
        if "targeted" not in self.supported_mode:
            raise ValueError("Targeted mode is not supported.")
        self.targeted = True
        self.attack_mode = mode
        print("Attack mode is changed to '%s'."%mode)

    @wrapper_method
    def set_mode_targeted_by_function(self, target_map_function):
        r"""
        Set attack mode as targeted.

        Arguments:
            target_map_function (function): Label mapping function.
                e.g. lambda inputs, labels:(labels+1)%10.
                None for using input labels as targeted labels. (Default)

        """
        self._set_mode_targeted('targeted(custom)')
        self._target_map_function = target_map_function

    @wrapper_method
    def set_mode_targeted_least_likely(self, kth_min=1):
        r"""
        Set attack mode as targeted with least likely labels.
        Arguments:
            kth_min (str): label with the k-th smallest probability used as target labels. (Default: 1)

        """
        self._set_mode_targeted('targeted(least-likely)')
        assert (kth_min > 0)
        self._kth_min = kth_min
        self._target_map_function = self.get_least_likely_label

    @wrapper_method
    def set_return_type(self, type):
        r"""
        Set the return type of adversarial inputs: `int` or `float`.

        Arguments:
            type (str): 'float' or 'int'. (Default: 'float')

        """
        if type == 'float':
            self.return_type = 'float'
        elif type == 'int':
            self.return_type = 'int'
        else:
            raise ValueError(type + " is not a valid type. [Options: float, int]")

    def get_return_type(self):
        r"""
        Get the return type of adversarial inputs: `int` or `float`.
        """
        return self.return_type

    @wrapper_method
    def set_model_training_mode(self, model_training=False, batchnorm_training=False, dropout_training=False):
        r"""
        Set training mode during attack process.

        Arguments:
            model_training (bool): True for using training mode for the entire model during attack process.
            batchnorm_training (bool): True for using training mode for batchnorms during attack process.
            dropout_training (bool): True for using training mode for dropouts during attack process.

        .. note::
            For RNN-based models, we cannot calculate gradients with eval mode.
            Thus, it should be changed to the training mode during the attack.
        """
        self._model_training = model_training
        self._batchnorm_training = batchnorm_training
        self._dropout_training = dropout_training

    @wrapper_method
    def _change_model_mode(self, given_training):
        if self._model_training:
            self.model.train()
            for _, m in self.model.named_modules():
                if not self._batchnorm_training:
                    if 'BatchNorm' in m.__class__.__name__:
                        m = m.eval()
                if not self._dropout_training:
                    if 'Dropout' in m.__class__.__name__:
                        m = m.eval()
        else:
            self.model.eval()

    @wrapper_method
    def _recover_model_mode(self, given_training):
        if given_training:
            self.model.train()

    @torch.no_grad()
    def get_output_with_eval_nograd(self, inputs):
        given_training = self.model.training
        if given_training:
            self.model.eval()
        outputs = self.get_logits(inputs)
        if given_training:
            self.model.train()
        return outputs

    def get_target_label(self, inputs, labels=None):
        r"""
        Function for changing the attack mode.
        Return input labels.
        """
        if self._target_map_function is None:
            raise ValueError('target_map_function is not initialized by set_mode_targeted.')
        target_labels = self._target_map_function(inputs, labels)
        return target_labels

    @torch.no_grad()
    def get_least_likely_label(self, inputs, labels=None):
        outputs = self.get_output_with_eval_nograd(inputs)
        if labels is None:
            _, labels = torch.max(outputs, dim=1)
        n_classses = outputs.shape[-1]

        target_labels = torch.zeros_like(labels)
        for counter in range(labels.shape[0]):
            l = list(range(n_classses))
            l.remove(labels[counter])
            _, t = torch.kthvalue(outputs[counter][l], self._kth_min)
            target_labels[counter] = l[t]

        return target_labels.long().to(self.device)

    @staticmethod
    def to_type(inputs, type):
        r"""
        Return inputs as int if float is given.
        """
        if type == 'int':
            if isinstance(inputs, torch.FloatTensor) or isinstance(inputs, torch.cuda.FloatTensor):
                return (inputs*255).type(torch.uint8)
        elif type == 'float':
            if isinstance(inputs, torch.ByteTensor) or isinstance(inputs, torch.cuda.ByteTensor):
                return inputs.float()/255
        else:
            raise ValueError(type + " is not a valid type. [Options: float, int]")
        return inputs

    def __call__(self, inputs, labels, *args, **kwargs):
        given_training = self.model.training
        self._change_model_mode(given_training)

        if self._normalization_applied is True:
            inputs = self.inverse_normalize(inputs)
            self._set_normalization_applied(False)

            adv_inputs = self.forward(inputs, labels, *args, **kwargs)
            adv_inputs = self.to_type(adv_inputs, self.return_type)

            adv_inputs = self.normalize(adv_inputs)
            self._set_normalization_applied(True)
        else:
            adv_inputs = self.forward(inputs, labels, *args, **kwargs)
            adv_inputs = self.to_type(adv_inputs, self.return_type)

        self._recover_model_mode(given_training)

        return adv_inputs

    def __repr__(self):
        info = self.__dict__.copy()

        del_keys = ['model', 'attack', 'supported_mode']

        for key in info.keys():
            if key[0] == "_":
                del_keys.append(key)

        for key in del_keys:
            del info[key]

        info['attack_mode'] = self.attack_mode
        info['return_type'] = self.return_type
        info['normalization_used'] = True if self.normalization_used is not None else False

        return self.attack + "(" + ', '.join('{}={}'.format(key, val) for key, val in info.items()) + ")"

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        
        attacks = self.__dict__.get('_attacks')

        # Get all items in iterable items.
        def get_all_values(items, stack=[]):
            if (items not in stack):
                stack.append(items)
                if isinstance(items, list) or isinstance(items, dict):
                    if isinstance(items, dict):
                        items = (list(items.keys())+list(items.values()))
                    for item in items:
                        yield from get_all_values(item, stack)
                else:
                    if isinstance(items, Attack):
                        yield items
            else:
                if isinstance(items, Attack):
                    yield items
                
        for num, value in enumerate(get_all_values(value)):
            attacks[name+"."+str(num)] = value
            for subname, subvalue in value.__dict__.get('_attacks').items():
                attacks[name+"."+subname] = subvalue


# ---- torchattacks/attacks/cw.py ----
class CW(Attack):
    r"""
    CW in the paper 'Towards Evaluating the Robustness of Neural Networks'
    [https://arxiv.org/abs/1608.04644]
    """

    def __init__(self, model, c=1, kappa=0, steps=50, lr=0.01, abort_early=True, loss='L2'):
        super().__init__("CW", model)
        self.c = c
        self.kappa = kappa
        self.steps = steps
        self.lr = lr
        self.abort_early = abort_early
        self.loss = loss
        self.supported_mode = ["default", "targeted"]

    def forward(self, images, labels):
        r"""
        Overridden.
        """

        images = images.clone().detach().to(self.device)
        labels = labels.clone().detach().to(self.device)

        if self.targeted:
            target_labels = self.get_target_label(images, labels)
        else:
            target_labels = labels

        # w = torch.zeros_like(images).detach() # Requires 2x times
        w = self.inverse_tanh_space(images).detach()
        w.requires_grad = True

        best_adv_images = images.clone().detach()
        batch_size = len(images)
        best_Lx = torch.full((batch_size, ), 1e10).to(self.device)
        prev_cost = 1e10

        MSELoss = nn.MSELoss(reduction="none")
        Flatten = nn.Flatten()

        optimizer = optim.Adam([w], lr=self.lr)

        for step in range(self.steps):
            # Get adversarial images
            adv_images = self.tanh_space(w)

            # Calculate loss
            if self.loss == "L2":
                current_Lx = MSELoss(Flatten(adv_images),
                                     Flatten(images)).sum(dim=1)
            elif self.loss == "L0":
                threshold = 1e-6
                l0_norm = Flatten(adv_images) - Flatten(images)
                l0_norm = torch.abs(l0_norm).sum(dim=1)
                l0_condition = (l0_norm <= threshold)
                current_Lx = torch.zeros((batch_size, )).to(self.device)
                current_Lx[l0_condition] = (1.0 / batch_size) * torch.sum(l0_condition)
            elif self.loss == "Linf":
                linf_norm = torch.abs(adv_images - images)
                linf_max = (1.0 / batch_size) * torch.max(linf_norm).item()
                current_Lx = torch.full(
                    (batch_size, ), linf_max).to(self.device)
            else:
                raise ValueError(f"Unsupported loss: {self.loss}.")

            Lx_loss = current_Lx.sum()

            outputs = self.get_logits(adv_images)
            if self.targeted:
                f_loss = self.f(outputs, target_labels)
            else:
                f_loss = self.f(outputs, labels)

            cost = Lx_loss + torch.sum(self.c * f_loss)

            optimizer.zero_grad()
            cost.backward()
            optimizer.step()

            # Update adversarial images
            pre = torch.argmax(outputs.detach(), 1)
            condition_1 = self.compare(pre, labels, target_labels)
            condition_2 = (current_Lx < best_Lx)

            # Filter out images that get either correct predictions or non-decreasing loss,
            # i.e., only images that are both misclassified and loss-decreasing are left
            mask = torch.logical_and(condition_1, condition_2)
            best_Lx[mask] = current_Lx[mask]
            best_adv_images[mask] = adv_images[mask]

            # Early stop when loss does not converge
            if self.abort_early and step % (self.steps // 10) == 0:
                if cost > prev_cost * 0.9999:
                    break
                else:
                    prev_cost = cost

        # print(best_Lx)
        return best_adv_images

    def compare(self, predition, labels, target_labels):
        if self.targeted:
            # We want to let pre == target_labels in a targeted attack
            ret = (predition == target_labels)
        else:
            # If the attack is not targeted we simply make these two values unequal
            ret = (predition != labels)
        return ret

    def tanh_space(self, x):
        return 1 / 2 * (torch.tanh(x) + 1)

    def inverse_tanh_space(self, x):
        # torch.atanh is only for torch >= 1.7.0
        # atanh is defined in the range -1 to 1
        return self.atanh(torch.clamp(x * 2 - 1, min=-1, max=1))

    def atanh(self, x):
        return 0.5 * torch.log((1 + x) / (1 - x))

    # f-function in the paper
    def f(self, outputs, labels):
        one_hot_labels = torch.eye(outputs.shape[1]).to(self.device)[labels]

        # get the target class's logit
        real = torch.sum(one_hot_labels * outputs, dim=1)
        # find the max logit other than the target class
        other = torch.max((1 - one_hot_labels) * outputs, dim=1)[0]

        if self.targeted:
            return torch.clamp((other - real), min=-self.kappa)
        else:
            return torch.clamp((real - other), min=-self.kappa)


# ---- torchattacks/attacks/deepfool.py ----
class DeepFool(Attack):
    r"""
    'DeepFool: A Simple and Accurate Method to Fool Deep Neural Networks'
    [https://arxiv.org/abs/1511.04599]
    """

    def __init__(self, model, steps=50, overshoot=0.02):
        super().__init__("DeepFool", model)
        self.steps = steps
        self.overshoot = overshoot
        self.supported_mode = ["default"]

    def forward(self, images, labels):
        r"""
        Overridden.
        """
        adv_images, target_labels = self.forward_return_target_labels(images, labels)
        return adv_images

    def forward_return_target_labels(self, images, labels):
        r"""
        Overridden.
        """
        images = images.clone().detach().to(self.device)
        labels = labels.clone().detach().to(self.device)

        batch_size = len(images)
        correct = torch.tensor([True] * batch_size)
        target_labels = labels.clone().detach().to(self.device)
        curr_steps = 0

        adv_images = []
        for idx in range(batch_size):
            image = images[idx : idx + 1].clone().detach()
            adv_images.append(image)

        while (True in correct) and (curr_steps < self.steps):
            for idx in range(batch_size):
                if not correct[idx]:
                    continue
                early_stop, pre, adv_image = self._forward_indiv(
                    adv_images[idx], labels[idx]
                )
                adv_images[idx] = adv_image
                target_labels[idx] = pre
                if early_stop:
                    correct[idx] = False
            curr_steps += 1

        adv_images = torch.cat(adv_images).detach()
        return adv_images, target_labels

    def _forward_indiv(self, image, label):
        image.requires_grad = True
        fs = self.get_logits(image)[0]
        _, pre = torch.max(fs, dim=0)
        if pre != label:
            return (True, pre, image)

        ws = self._construct_jacobian(fs, image)
        image = image.detach()

        f_0 = fs[label]
        w_0 = ws[label]

        wrong_classes = [i for i in range(len(fs)) if i != label]
        f_k = fs[wrong_classes]
        w_k = ws[wrong_classes]

        f_prime = f_k - f_0
        w_prime = w_k - w_0
        value = torch.abs(f_prime) / torch.norm(nn.Flatten()(w_prime), p=2, dim=1)
        _, hat_L = torch.min(value, 0)

        delta = (
            torch.abs(f_prime[hat_L])
            * w_prime[hat_L]
            / (torch.norm(w_prime[hat_L], p=2) ** 2)
        )

        target_label = hat_L if hat_L < label else hat_L + 1

        adv_image = image + (1 + self.overshoot) * delta
        adv_image = torch.clamp(adv_image, min=0, max=1).detach()
        return (False, target_label, adv_image)

    # https://stackoverflow.com/questions/63096122/pytorch-is-it-possible-to-differentiate-a-matrix
    # torch.autograd.functional.jacobian is only for torch >= 1.5.1
    def _construct_jacobian(self, y, x):
        x_grads = []
        for idx, y_element in enumerate(y):
            if x.grad is not None:
                x.grad.zero_()
            y_element.backward(retain_graph=(False or idx + 1 < len(y)))
            x_grads.append(x.grad.clone().detach())
        return torch.stack(x_grads).reshape(*y.shape, *x.shape)


# ---- torchattacks/attacks/pgdl2.py ----
class PGDL2(Attack):
    r"""
    PGD in the paper 'Towards Deep Learning Models Resistant to Adversarial Attacks'
    [https://arxiv.org/abs/1706.06083]
    """

    def __init__(
        self,
        model,
        eps=1.0,
        alpha=0.2,
        steps=10,
        random_start=True,
        eps_for_division=1e-10,
    ):
        super().__init__("PGDL2", model)
        self.eps = eps
        self.alpha = alpha
        self.steps = steps
        self.random_start = random_start
        self.eps_for_division = eps_for_division
        self.supported_mode = ["default", "targeted"]

    def forward(self, images, labels):
        r"""
        Overridden.
        """

        images = images.clone().detach().to(self.device)
        labels = labels.clone().detach().to(self.device)

        if self.targeted:
            target_labels = self.get_target_label(images, labels)

        loss = nn.CrossEntropyLoss()

        adv_images = images.clone().detach()
        batch_size = len(images)

        if self.random_start:
            # Starting at a uniformly random point
            delta = torch.empty_like(adv_images).normal_()
            d_flat = delta.view(adv_images.size(0), -1)
            n = d_flat.norm(p=2, dim=1).view(adv_images.size(0), 1, 1, 1)
            r = torch.zeros_like(n).uniform_(0, 1)
            delta *= r / n * self.eps
            adv_images = torch.clamp(adv_images + delta, min=0, max=1).detach()

        for _ in range(self.steps):
            adv_images.requires_grad = True
            outputs = self.get_logits(adv_images)

            # Calculate loss
            if self.targeted:
                cost = -loss(outputs, target_labels)
            else:
                cost = loss(outputs, labels)

            # Update adversarial images
            grad = torch.autograd.grad(
                cost, adv_images, retain_graph=False, create_graph=False
            )[0]
            grad_norms = (
                torch.norm(grad.view(batch_size, -1), p=2, dim=1)
                + self.eps_for_division
            )  # nopep8
            grad = grad / grad_norms.view(batch_size, 1, 1, 1)
            adv_images = adv_images.detach() + self.alpha * grad

            delta = adv_images - images
            delta_norms = torch.norm(delta.view(batch_size, -1), p=2, dim=1)
            factor = self.eps / delta_norms
            factor = torch.min(factor, torch.ones_like(delta_norms))
            delta = delta * factor.view(-1, 1, 1, 1)

            adv_images = torch.clamp(images + delta, min=0, max=1).detach()

        return adv_images


# ---- a small model and data (the repository's demos use pretrained CIFAR-10/ImageNet models) ----
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(8 * 4 * 4, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


templates = torch.rand(10, 1, 8, 8)
train_labels = torch.randint(0, 10, (64,))
train_images = (0.7 * templates[train_labels] + 0.3 * torch.rand(64, 1, 8, 8))
test_labels = torch.randint(0, 10, (8,))
test_images = (0.7 * templates[test_labels] + 0.3 * torch.rand(8, 1, 8, 8))

model = Net()
opt = optim.Adam(model.parameters(), lr=1e-2)
for it in range(15):
    loss = nn.CrossEntropyLoss()(model(train_images), train_labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if it % 5 == 4:
        print("train step %d loss %.4f" % (it, loss.item()))

def report(name, adv_images, images, labels):
    with torch.no_grad():
        pred = model(adv_images).argmax(1)
    l2 = (adv_images - images).view(len(images), -1).norm(p=2, dim=1)
    print("%s: robust acc %.3f, mean L2 %.4f, max Linf %.4f" % (
        name, (pred == labels).float().mean().item(), l2.mean().item(),
        (adv_images - images).abs().max().item()))
    print("  pred", pred.tolist())

model.train()
with torch.no_grad():
    model.eval()
    print("clean pred", model(test_images).argmax(1).tolist(), "labels", test_labels.tolist())
    model.train()

atk = CW(model, c=1, kappa=0, steps=10, lr=0.1)
print(atk)
adv_images = atk(test_images, test_labels)
print("model.training after the attack:", model.training)
report("CW", adv_images, test_images, test_labels)

atk = DeepFool(model, steps=3, overshoot=0.02)
adv_images, target_labels = atk.forward_return_target_labels(test_images[:4], test_labels[:4])
print("DeepFool target labels", target_labels.tolist())
adv_images = atk(test_images[:4], test_labels[:4])
report("DeepFool", adv_images, test_images[:4], test_labels[:4])

atk = PGDL2(model, eps=1.0, alpha=0.2, steps=5, random_start=True)
print(atk)
adv_images = atk(test_images, test_labels)
report("PGDL2", adv_images, test_images, test_labels)

atk.set_mode_targeted_least_likely(kth_min=2)
print("least likely (2nd) targets", atk.get_target_label(test_images, test_labels).tolist())
adv_images = atk(test_images, test_labels)
report("PGDL2 targeted", adv_images, test_images, test_labels)
atk.set_mode_default()

# a normalized model input: the attack un-normalizes, attacks in [0, 1] and normalizes back
mean, std = [0.5], [0.25]
atk = PGDL2(model, eps=0.5, alpha=0.1, steps=3)
atk.set_normalization_used(mean=mean, std=std)
norm_images = (test_images - 0.5) / 0.25
adv_norm = atk(norm_images, test_labels)
print(atk)
print("normalized adversarial range %.4f %.4f" % (adv_norm.min().item(), adv_norm.max().item()))

# return type 'int': uint8 images, as save(save_type='int') stores them
atk = CW(model, c=2, steps=10, lr=0.05)
atk.set_return_type('int')
adv_int = atk(test_images, test_labels)
print(adv_int.dtype, adv_int.shape, adv_int.sum().item())
adv_float = atk.to_type(adv_int, 'float')
print(adv_float.dtype, "%.4f" % adv_float.sum().item())

# a composite attack registers its sub-attacks through __setattr__ (the MultiAttack pattern)
class TwoAttacks(Attack):
    def __init__(self, attacks):
        super().__init__("TwoAttacks", attacks[0].model)
        self.attacks = attacks

two = TwoAttacks([CW(model, steps=2), PGDL2(model, steps=2)])
print(list(two._attacks.keys()))
two.set_model_training_mode(model_training=True, batchnorm_training=False, dropout_training=False)
print([a._model_training for a in two._attacks.values()])
